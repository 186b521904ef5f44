import { describe, expect, it } from 'vitest';
import { CUT_MARK, decodeLogLine, encodeLogLine, formatDeviceTime, type LogLine } from './log-line';
import { bytesEqual, text, utf8 } from './bytes';
import { mulberry32, nextInput } from './fuzz/inputs';

// Lines as the original board prints them (seed README boot log).
const fixtures: Array<{ wire: string; line: LogLine }> = [
  { wire: 'W 1394     main: MicroPython 1.12.0', line: { level: 'W', time: '1394', name: 'main', text: 'MicroPython 1.12.0' } },
  { wire: 'I 11569   mqrepl: Subscribed to esp32/test/mqb/cmd/#', line: { level: 'I', time: '11569', name: 'mqrepl', text: 'Subscribed to esp32/test/mqb/cmd/#' } },
  { wire: 'I 7080 mqtt_async: Connecting to x: y', line: { level: 'I', time: '7080', name: 'mqtt_async', text: 'Connecting to x: y' } },
  { wire: 'E 12:01:02.345 watchdog: feed failed', line: { level: 'E', time: '12:01:02.345', name: 'watchdog', text: 'feed failed' } },
  { wire: 'D 5        x: ', line: { level: 'D', time: '5', name: 'x', text: '' } },
];

describe('log lines', () => {
  for (const f of fixtures) {
    it(`decodes and re-encodes byte-equal: ${f.wire}`, () => {
      const d = decodeLogLine(utf8(f.wire));
      if (!d.ok) throw new Error(d.error);
      expect(d.value).toEqual(f.line);
      expect(bytesEqual(encodeLogLine(d.value), utf8(f.wire))).toBe(true);
    });
  }

  it('right-aligns the logger name in 8 columns', () => {
    expect(text(encodeLogLine({ level: 'I', time: '1', name: 'abc', text: 't' }))).toBe('I 1      abc: t');
  });

  it('cuts lines at 1024 bytes without splitting a character', () => {
    const b = encodeLogLine({ level: 'I', time: '1', name: 'n', text: 'é'.repeat(1000) });
    expect(b.length).toBeLessThanOrEqual(1024);
    expect(text(b)).not.toContain('\ufffd');
  });

  it('rejects text that is not a log line', () => {
    expect(decodeLogLine(utf8('hello')).ok).toBe(false);
    expect(decodeLogLine(utf8('X 1 n: t')).ok).toBe(false);
  });

  it('cuts a line longer than 1024 bytes before parsing it, and marks the cut', () => {
    const d = decodeLogLine(utf8(`I 1     main: ${'é'.repeat(5_000)}`));
    if (!d.ok) throw new Error(d.error);
    expect(d.value.name).toBe('main');
    expect(d.value.text.endsWith(CUT_MARK)).toBe(true);
    expect(utf8(d.value.text.slice(0, -CUT_MARK.length)).length).toBeLessThanOrEqual(1024 - 'I 1     main: '.length);
    expect(d.value.text).not.toContain('\ufffd');
  });

  it('reads only the first 1024 bytes, in one pass: 65,000 spaces push the name out of reach', () => {
    // ` +(.*?): ` backtracked quadratically over such runs, seconds of CPU per message.
    for (let i = 0; i < 10; i++) {
      expect(decodeLogLine(utf8(`I 1${' '.repeat(65_000)}main: up`))).toEqual({ ok: false, error: 'not an MQBoard log line' });
      expect(decodeLogLine(utf8(`I 1${' '.repeat(65_000)}x`))).toEqual({ ok: false, error: 'not an MQBoard log line' });
    }
    expect(decodeLogLine(utf8(`I 1${' '.repeat(900)}main: up`))).toEqual({ ok: true, value: { level: 'I', time: '1', name: 'main', text: 'up' } });
  });

  it('keeps the original grammar: first ": " ends the name, which never spans a line break', () => {
    expect(decodeLogLine(utf8('I 1 a: b: c'))).toEqual({ ok: true, value: { level: 'I', time: '1', name: 'a', text: 'b: c' } });
    expect(decodeLogLine(utf8('I 1 a\nb: c')).ok).toBe(false);
    expect(decodeLogLine(utf8('I 1 a: b\nc'))).toEqual({ ok: true, value: { level: 'I', time: '1', name: 'a', text: 'b\nc' } });
    expect(decodeLogLine(utf8('W 12:01:02 wifi:\r\n'))).toEqual({ ok: true, value: { level: 'W', time: '12:01:02', name: 'wifi', text: '' } });
    expect(decodeLogLine(utf8('I 12:01:02.1234567 n: t')).ok).toBe(false);
    expect(decodeLogLine(utf8('I  1 n: t')).ok).toBe(false);
  });

  it('reads every line within the cap exactly as the original pattern did', () => {
    // The pattern this scanner replaces, as the oracle: it is quick on lines this short.
    const LINE = /^([CEWID]) (\d+|\d{2}:\d{2}:\d{2}(?:\.\d{1,6})?) +(.*?): ([\s\S]*)$/;
    const LINE_NO_TEXT = /^([CEWID]) (\d+|\d{2}:\d{2}:\d{2}(?:\.\d{1,6})?) +(.*?):$/;
    const rng = mulberry32(1024);
    const samples = fixtures.map((f) => utf8(f.wire));
    for (let i = 0; i < 3_000; i++) {
      const b = nextInput(rng, samples, 96).bytes.subarray(0, 1024);
      const m = ((s) => LINE.exec(s) ?? LINE_NO_TEXT.exec(s))(text(b).replace(/\r?\n$/, ''));
      const want = m ? { ok: true, value: { level: m[1], time: m[2], name: m[3]!.trim(), text: m[4] ?? '' } } : { ok: false, error: 'not an MQBoard log line' };
      expect(decodeLogLine(b), JSON.stringify(text(b))).toEqual(want);
    }
  });

  it('formats device time as ms since boot, or UTC wall clock once known', () => {
    expect(formatDeviceTime(1394.7)).toBe('1394');
    expect(formatDeviceTime(0, Date.UTC(2026, 0, 1, 13, 4, 5, 6))).toBe('13:04:05.006');
  });
});
