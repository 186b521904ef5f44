// Text from a device (names, log lines, crash records, file names, REPL output) is untrusted:
// shown raw in a terminal, its escape sequences could set the clipboard (OSC 52), the window
// title, fake links, clear or overwrite the screen, or make the terminal answer queries as if
// typed. This turns every control character into visible text (`\e]52;c;…\a`), so a terminal
// prints it rather than acting on it. Pure and linear in the input's length.

export interface NeutraliseOptions {
  /** Keep line feeds (and CR LF) and tabs as they are. Default true; false for one-line fields such as table cells. */
  multiline?: boolean;
  /**
   * Pass well-formed SGR sequences (`ESC [ digits ; … m`: colours, bold) as they are; every other
   * sequence is still shown as text. When one passed, a reset follows the text so no attribute
   * leaks past it.
   */
  keepSgr?: boolean;
  /** Characters looked at; the rest is cut and counted. Default 1,000,000. */
  maxChars?: number;
}

const NAMED: Record<number, string> = {
  0x00: '\\0',
  0x07: '\\a',
  0x08: '\\b',
  0x09: '\\t',
  0x0a: '\\n',
  0x0b: '\\v',
  0x0c: '\\f',
  0x0d: '\\r',
  0x1b: '\\e',
};

/** An SGR sequence's parameters are short: this bounds the look-ahead at each ESC. */
const SGR_MAX = 64;
const SGR_RESET = '\x1b[0m';

const isControl = (c: number) =>
  c < 0x20 ||
  (c >= 0x7f && c <= 0x9f) ||
  // Line and paragraph separators, and the bidirectional overrides and isolates that can make
  // text read differently from what it is.
  c === 0x2028 ||
  c === 0x2029 ||
  (c >= 0x202a && c <= 0x202e) ||
  (c >= 0x2066 && c <= 0x2069);

/** The visible form of one control character: `\e`, `\n`, `\x9b`, `\u202e`. */
export function visibleControl(c: number): string {
  const named = NAMED[c];
  if (named) return named;
  return c < 0x100 ? `\\x${c.toString(16).padStart(2, '0')}` : `\\u${c.toString(16).padStart(4, '0')}`;
}

/** Length of the well-formed SGR sequence starting at `i` (an ESC), or 0. */
function sgrLength(text: string, i: number): number {
  if (text.charCodeAt(i + 1) !== 0x5b /* [ */) return 0;
  const end = Math.min(text.length, i + SGR_MAX);
  for (let j = i + 2; j < end; j++) {
    const c = text.charCodeAt(j);
    if (c === 0x6d /* m */) return j + 1 - i;
    // digits, ';' and ':' (sub-parameters, as in 38:2::r:g:b)
    if (!((c >= 0x30 && c <= 0x39) || c === 0x3b || c === 0x3a)) return 0;
  }
  return 0;
}

/** `text` with its control characters shown as text; see NeutraliseOptions. */
export function neutraliseControls(text: string, opts: NeutraliseOptions = {}): string {
  const multiline = opts.multiline ?? true;
  const max = Math.max(0, opts.maxChars ?? 1_000_000);
  const cut = text.length > max ? text.length - max : 0;
  const src = cut ? text.slice(0, max) : text;
  const out: string[] = [];
  let run = 0; // start of the pending run of ordinary characters
  let sgr = false;
  for (let i = 0; i < src.length; i++) {
    const c = src.charCodeAt(i);
    if (!isControl(c)) continue;
    if (multiline && (c === 0x0a || c === 0x09)) continue;
    if (multiline && c === 0x0d && src.charCodeAt(i + 1) === 0x0a) continue;
    if (opts.keepSgr && c === 0x1b) {
      const n = sgrLength(src, i);
      if (n > 0) {
        sgr = true;
        i += n - 1;
        continue;
      }
    }
    if (i > run) out.push(src.slice(run, i));
    out.push(visibleControl(c));
    run = i + 1;
  }
  if (run === 0 && !cut && !sgr) return text;
  out.push(src.slice(run));
  if (sgr) out.push(SGR_RESET);
  if (cut) out.push(`… (${cut} more characters not shown)`);
  return out.join('');
}

/** Device text for one line of a view: line breaks too are shown rather than obeyed. */
export const oneLine = (text: string): string => neutraliseControls(text, { multiline: false });
