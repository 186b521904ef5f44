// Log lines on `P/log` (wire facts, "Logging"): `<L> <time> <name>: <text>`, one per message.
import { text, utf8 } from './bytes';
import { MAX_LOG_LINE_BYTES } from './limits';
import { type Decoded, fail, ok } from './result';

export const LEVELS = ['C', 'E', 'W', 'I', 'D'] as const;
export type Level = (typeof LEVELS)[number];
export const LEVEL_NAMES: Record<Level, string> = { C: 'critical', E: 'error', W: 'warning', I: 'info', D: 'debug' };
/** Lower is more severe; used to drop the least important lines first. */
export const LEVEL_RANK: Record<Level, number> = { C: 0, E: 1, W: 2, I: 3, D: 4 };
/** Original boards cut lines at this many bytes (limits.ts). */
export const MAX_LINE_BYTES = MAX_LOG_LINE_BYTES;

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
  return cutUtf8(utf8(`${l.level} ${l.time} ${l.name.padStart(8)}: ${l.text}`), MAX_LINE_BYTES);
}

const TIME = /^(?:\d+|\d{2}:\d{2}:\d{2}(?:\.\d{1,6})?)$/;
/** What `.` does not match in a regular expression: a logger name never spans one of these. */
const LINE_BREAK = /[\n\r\u2028\u2029]/;
/** Appended to the text of a line that arrived longer than the cap and was cut to it. */
export const CUT_MARK = '\u2026';

/** The first `max` bytes of a UTF-8 payload, without splitting a character. */
function cutUtf8(bytes: Uint8Array, max: number): Uint8Array {
  if (bytes.length <= max) return bytes;
  let end = max;
  while (end > 0 && (bytes[end]! & 0xc0) === 0x80) end--;
  return bytes.subarray(0, end);
}

/**
 * Decodes `<L> <time> <name>: <text>`. A payload over 1024 bytes (more than an original board or
 * our runtime sends) is cut there first and its text marked with `CUT_MARK`, so a flood of huge
 * lines costs no more than a flood of normal ones. Parsed by scanning, in linear time: the
 * regular expression this replaces (` +(.*?): `) backtracked quadratically over a long run of
 * spaces, seconds of CPU per message.
 */
export function decodeLogLine(payload: Uint8Array): Decoded<LogLine> {
  const cut = payload.length > MAX_LOG_LINE_BYTES;
  let s = text(cutUtf8(payload, MAX_LOG_LINE_BYTES));
  if (s.endsWith('\n')) s = s.slice(0, s.endsWith('\r\n') ? -2 : -1);
  const level = s[0];
  if (level === undefined || !isLevel(level) || s[1] !== ' ') return fail('not an MQBoard log line');
  const timeEnd = s.indexOf(' ', 2);
  if (timeEnd < 0 || !TIME.test(s.slice(2, timeEnd))) return fail('not an MQBoard log line');
  let nameStart = timeEnd;
  while (s[nameStart] === ' ') nameStart++;
  const rest = s.slice(nameStart);
  const sep = rest.indexOf(': ');
  const lineBreak = rest.search(LINE_BREAK);
  let name: string;
  let body: string;
  if (sep >= 0 && (lineBreak < 0 || lineBreak > sep)) {
    name = rest.slice(0, sep);
    body = rest.slice(sep + 2);
  } else if (rest.endsWith(':') && (lineBreak < 0 || lineBreak === rest.length - 1)) {
    // A line with no text keeps no space after the colon.
    name = rest.slice(0, -1);
    body = '';
  } else {
    return fail('not an MQBoard log line');
  }
  return ok({ level, time: s.slice(2, timeEnd), name: name.trim(), text: cut ? body + CUT_MARK : body });
}

const isLevel = (c: string): c is Level => (LEVELS as readonly string[]).includes(c);
