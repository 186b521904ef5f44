// An export is text for a terminal: nothing a device sent may act on the terminal that shows it.
import { describe, expect, it } from 'vitest';
import type { LogRecord } from '../../../protocol/src/bridge-logs';
import { exportFileName, formatExportLine } from './log-export';

const ESC = '\x1b';
const BEL = '\x07';
const at = Date.UTC(2026, 0, 2, 3, 4, 5, 6);
const record = (o: Partial<LogRecord>): LogRecord => ({ id: 1, prefix: 'lab/a', received: at, level: 'I', time: '100', name: 'main', text: 'hello', ...o });

describe('log export format', () => {
  it('writes the columns of the log view, with the device column for a fleet export', () => {
    expect(formatExportLine(record({}), false)).toBe('2026-01-02T03:04:05.006Z I 100 main: hello');
    expect(formatExportLine(record({}), true)).toBe('2026-01-02T03:04:05.006Z lab/a I 100 main: hello');
  });

  it('writes escape sequences a device logged as visible text, never as escapes a terminal obeys', () => {
    const text = `${ESC}]52;c;cm0gLXJmIH4=${BEL}${ESC}]0;owned${BEL}${ESC}]8;;https://evil.example${ESC}\\here${ESC}]8;;${ESC}\\${ESC}[2J${ESC}[1A\x9b31m`;
    const line = formatExportLine(record({ prefix: `lab/${ESC}[8m`, name: `x${ESC}[2K`, text: `${text}\nE 00:00 forged: line` }), true);
    expect(line).toBe(
      '2026-01-02T03:04:05.006Z lab/\\e[8m I 100 x\\e[2K: \\e]52;c;cm0gLXJmIH4=\\a\\e]0;owned\\a\\e]8;;https://evil.example\\e\\here\\e]8;;\\e\\\\e[2J\\e[1A\\x9b31m\\nE 00:00 forged: line',
    );
    // One record, one line: a logged newline cannot forge a record of its own.
    expect(line.split('\n')).toHaveLength(1);
  });

  it('indents a crash stack below its record, its lines kept and its controls shown', () => {
    const crash = { id: 'c', time: at, bootCount: 1, mode: 'normal' as const, reason: 'exception' as const, message: 'boom', stack: `Error: boom\r\n  at f (x.js:1)${ESC}]52;c;eA==${BEL}\n  at g\r  spoofed`, log: [] };
    expect(formatExportLine(record({ level: 'C', text: 'exception: boom', crash }), false)).toBe(
      '2026-01-02T03:04:05.006Z C 100 main: exception: boom\n    Error: boom\n      at f (x.js:1)\\e]52;c;eA==\\a\n      at g\\r  spoofed',
    );
  });

  it('names the file after the device in characters every file system takes', () => {
    expect(exportFileName(`lab/a b${ESC}:c`, new Date(at))).toBe('mqboard-lab_a_b_c-2026-01-02T03-04-05.log');
    expect(exportFileName(undefined, new Date(at))).toBe('mqboard-fleet-2026-01-02T03-04-05.log');
  });
});
