// Log lines on `P/log` (wire facts, "Logging"): `<L> <time> <name>: <text>`, one per message.
import { text, utf8 } from './bytes';
import { type Decoded, fail, ok } from './result';

export const LEVELS = ['C', 'E', 'W', 'I', 'D'] as const;
export type Level = (typeof LEVELS)[number];
export const LEVEL_NAMES: Record<Level, string> = { C: 'critical', E: 'error', W: 'warning', I: 'info', D: 'debug' };
/** Lower is more severe; used to drop the least important lines first. */
export const LEVEL_RANK: Record<Level, number> = { C: 0, E: 1, W: 2, I: 3, D: 4 };
export const MAX_LINE_BYTES = 1024;

export interface LogLine {
  level: Level;
  /** As sent: ms since boot (`"1394"`) or wall clock (`"12:01:02.345"`). */
  time: string;
  name: string;
  text: string;
}

/** Formats a device time: ms since boot until the clock is set, `HH:MM:SS.mmm` (UTC) after. */
export function formatDeviceTime(msSinceBoot: number, wallClock?: number): string {
  if (wallClock === undefined) return String(Math.floor(msSinceBoot));
  const d = new Date(wallClock);
  const p = (n: number, w = 2) => String(n).padStart(w, '0');
  return `${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())}.${p(d.getUTCMilliseconds(), 3)}`;
}

/** Encodes a line, cut at 1024 bytes as the original does (without splitting a character). */
export function encodeLogLine(l: LogLine): Uint8Array {
  const bytes = utf8(`${l.level} ${l.time} ${l.name.padStart(8)}: ${l.text}`);
  if (bytes.length <= MAX_LINE_BYTES) return bytes;
  let end = MAX_LINE_BYTES;
  while (end > 0 && (bytes[end]! & 0xc0) === 0x80) end--;
  return bytes.subarray(0, end);
}

const LINE = /^([CEWID]) (\d+|\d{2}:\d{2}:\d{2}(?:\.\d{1,6})?) +(.*?): ([\s\S]*)$/;
const LINE_NO_TEXT = /^([CEWID]) (\d+|\d{2}:\d{2}:\d{2}(?:\.\d{1,6})?) +(.*?):$/;

export function decodeLogLine(payload: Uint8Array): Decoded<LogLine> {
  if (payload.length > 64 * 1024) return fail(`log line too long: ${payload.length} bytes`);
  const s = text(payload).replace(/\r?\n$/, '');
  const m = LINE.exec(s) ?? LINE_NO_TEXT.exec(s);
  if (!m) return fail('not an MQBoard log line');
  return ok({ level: m[1] as Level, time: m[2]!, name: m[3]!.trim(), text: m[4] ?? '' });
}
