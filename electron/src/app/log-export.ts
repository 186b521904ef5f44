// Formats log records for export: one line per record, the columns of the log view (received
// time, device, level, device time, logger, text), crash stacks indented below their record.
// An export is read with `cat`, `less` or `tail` in a terminal, which would obey the escape
// sequences a device put in its lines (clipboard writes, titles, screen clears): every control
// character goes out as visible text, as the log view shows it, and a line stays one line.
import { neutraliseControls, oneLine } from '../../../protocol/src/control-chars';
import type { LogRecord } from '../../../protocol/src/bridge-logs';

export function formatExportLine(r: LogRecord, withDevice: boolean): string {
  const received = new Date(r.received).toISOString();
  const head = `${received} ${withDevice ? `${oneLine(r.prefix)} ` : ''}${r.level} ${oneLine(r.time)} ${oneLine(r.name)}: ${oneLine(r.text)}`;
  const stack = r.crash?.stack;
  if (!stack) return head;
  // Only line breaks are left as they are (a CR only in a CRLF), so these are all the lines.
  const lines = neutraliseControls(stack).split(/\r?\n/);
  return `${head}\n${lines.map((l) => `    ${l}`).join('\n')}`;
}

/** `mqboard-<device or fleet>-<date>.log`, safe on every file system. */
export function exportFileName(prefix: string | undefined, now: Date): string {
  const who = prefix ? prefix.replace(/[^A-Za-z0-9._-]+/g, '_') : 'fleet';
  const when = now.toISOString().replace(/[:]/g, '-').replace(/\..*$/, '');
  return `mqboard-${who}-${when}.log`;
}
