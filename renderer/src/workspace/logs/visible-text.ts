// Device text as the user should see it: every control character shown, none obeyed. A device is
// untrusted, and its log lines, names and crash stacks may carry terminal escape sequences (OSC 52
// clipboard writes, OSC 8 links, CSI screen clears), NULs, or bidi overrides that reorder the text
// around them. The DOM obeys none of these but silently swallows most, so a line that tried
// something would look innocent; here each becomes a glyph that says what was sent: C0 controls
// their Unicode control pictures (ESC is `␛`, so an OSC 52 write reads `␛]52;c;…␇`), DEL `␡`, and
// C1 controls and the invisible formatting characters a `\xNN` / `\uNNNN` escape.

/** Every control character; one class, so replacing is a single linear pass. */
// eslint-disable-next-line no-control-regex -- control characters are what this finds
const CONTROLS = /[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\ufeff]/;
const SINGLE_LINE = new RegExp(CONTROLS.source, 'g');
/** Multi-line text (stacks) keeps its line breaks (a CRLF as one) and tabs. */
const MULTI_LINE = new RegExp(`\\r\\n|${CONTROLS.source}`, 'g');

function picture(c: string): string {
  const code = c.charCodeAt(0);
  if (code < 0x20) return String.fromCharCode(0x2400 + code);
  if (code === 0x7f) return '\u2421';
  if (code <= 0x9f) return `\\x${code.toString(16)}`;
  return `\\u${code.toString(16).padStart(4, '0')}`;
}

/** `text` with every control character made visible; a tab stays a tab (it is only whitespace). */
export function visibleText(text: string): string {
  return text.replace(SINGLE_LINE, (c) => (c === '\t' ? c : picture(c)));
}

/** As `visibleText`, keeping line breaks: for stacks and other text shown in a block. */
export function visibleLines(text: string): string {
  return text.replace(MULTI_LINE, (c) => (c === '\r\n' ? '\n' : c === '\n' || c === '\t' ? c : picture(c)));
}
