import { describe, expect, it } from 'vitest';
import { visibleLines, visibleText } from './visible-text';

const ESC = '\x1b';
const BEL = '\x07';

/** Characters a browser swallows or obeys as formatting, tab and line feed aside. */
// eslint-disable-next-line no-control-regex -- control characters are what the tests look for
const INVISIBLE = /[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\ufeff]/;

describe('visible text', () => {
  it('shows terminal escape sequences as the bytes a device sent, none of them obeyed', () => {
    expect(visibleText(`${ESC}]52;c;aGVsbG8=${BEL}`)).toBe('␛]52;c;aGVsbG8=␇');
    expect(visibleText(`${ESC}]0;pwned${BEL}`)).toBe('␛]0;pwned␇');
    expect(visibleText(`${ESC}]8;;https://evil.example${ESC}\\click${ESC}]8;;${ESC}\\`)).toBe('␛]8;;https://evil.example␛\\click␛]8;;␛\\');
    expect(visibleText(`${ESC}[2J${ESC}[H${ESC}[1A`)).toBe('␛[2J␛[H␛[1A');
  });

  it('names C1 controls, DEL and the bidi overrides that would reorder the text around them', () => {
    expect(visibleText('\x9b2J\x9d0;t\x9c')).toBe('\\x9b2J\\x9d0;t\\x9c');
    expect(visibleText('a\x7fb\x00c')).toBe('a␡b␀c');
    expect(visibleText('file\u202etxt.exe')).toBe('file\\u202etxt.exe');
    expect(visibleText('\u2066x\u2069\ufeff')).toBe('\\u2066x\\u2069\\ufeff');
  });

  it('leaves printable text alone, markup included (React escapes it; it is not ours to change)', () => {
    const s = 'E 12:00 <img src=x onerror=alert(1)> <script>alert(2)</script> café ✓ 日本 \u{1f600}';
    expect(visibleText(s)).toBe(s);
    expect(visibleLines(s)).toBe(s);
  });

  it('shows a line break inside a single line, and keeps tabs as whitespace', () => {
    expect(visibleText('one\ntwo\r\nthree\tfour')).toBe('one␊two␍␊three\tfour');
  });

  it('keeps the lines of a block (a CRLF as one break) and still shows a lone CR', () => {
    expect(visibleLines(`Error: boom\r\n    at f (a.js:1:1)\n\tat g${ESC}[2K\rspoofed`)).toBe('Error: boom\n    at f (a.js:1:1)\n\tat g␛[2K␍spoofed');
  });

  it('leaves no invisible or formatting control in its output, for any UTF-16 unit', () => {
    const all = Array.from({ length: 0x10000 }, (_, c) => String.fromCharCode(c)).join('');
    expect(INVISIBLE.test(visibleText(all))).toBe(false);
    expect(visibleText(all)).not.toContain('\n');
    expect(INVISIBLE.test(visibleLines(all))).toBe(false);
  });

  it('handles a 64 KiB stack of nothing but escapes, one glyph per character', () => {
    const stack = ESC.repeat(64 * 1024);
    expect(visibleLines(stack)).toBe('␛'.repeat(64 * 1024));
  });
});
