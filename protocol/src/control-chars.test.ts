import { describe, expect, it } from 'vitest';
import { neutraliseControls } from './control-chars';

const ESC = '\x1b';

describe('neutraliseControls', () => {
  it('leaves ordinary text, tabs and line breaks as they are (the same string)', () => {
    const s = 'I 12:00:01    main: ready\tok\r\nnext line\nünïcödé ✓';
    expect(neutraliseControls(s)).toBe(s);
  });

  it('shows the escape sequences a hostile device sends as text, so no terminal acts on them', () => {
    const attacks: Array<[string, string]> = [
      [`${ESC}]52;c;cm0gLXJmIH4vKg==\x07`, '\\e]52;c;cm0gLXJmIH4vKg==\\a'], // clipboard
      [`${ESC}]0;owned${ESC}\\`, '\\e]0;owned\\e\\'], // window title, ST-terminated
      [`${ESC}]8;;http://evil/${ESC}\\ok${ESC}]8;;${ESC}\\`, '\\e]8;;http://evil/\\e\\ok\\e]8;;\\e\\'], // hyperlink
      [`${ESC}[2J${ESC}[H`, '\\e[2J\\e[H'], // clear screen
      [`${ESC}[1A${ESC}[2Kall good`, '\\e[1A\\e[2Kall good'], // overwrite the line above
      [`${ESC}P$q"p${ESC}\\`, '\\eP$q"p\\e\\'], // DCS query: the answer would arrive as typed input
      ['\x9b2J\x9d0;t\x9c', '\\x9b2J\\x9d0;t\\x9c'], // 8-bit C1 CSI, OSC, ST
    ];
    for (const [raw, shown] of attacks) {
      const out = neutraliseControls(raw);
      expect(out).toBe(shown);
      expect([...out].some((ch) => ch.charCodeAt(0) < 0x20 || (ch.charCodeAt(0) >= 0x7f && ch.charCodeAt(0) <= 0x9f))).toBe(false);
    }
  });

  it('shows a lone carriage return, backspace, NUL, DEL and bidi overrides', () => {
    expect(neutraliseControls('safe\rEVIL\b\0\x7f')).toBe('safe\\rEVIL\\b\\0\\x7f');
    expect(neutraliseControls('abc\u202edef\u2066')).toBe('abc\\u202edef\\u2066');
  });

  it('shows line breaks and tabs too in one-line fields', () => {
    expect(neutraliseControls('1.0\nFAKE ROW\tx\r\n', { multiline: false })).toBe('1.0\\nFAKE ROW\\tx\\r\\n');
  });

  it('passes well-formed SGR colours with keepSgr, ends them with a reset, and still shows everything else', () => {
    expect(neutraliseControls(`${ESC}[31;1mred${ESC}[0m plain`, { keepSgr: true })).toBe(`${ESC}[31;1mred${ESC}[0m plain${ESC}[0m`);
    expect(neutraliseControls(`${ESC}[38:2::255:0:0mtrue colour`, { keepSgr: true })).toBe(`${ESC}[38:2::255:0:0mtrue colour${ESC}[0m`);
    expect(neutraliseControls(`${ESC}[2J${ESC}]52;c;eA==\x07${ESC}[?25l`, { keepSgr: true })).toBe('\\e[2J\\e]52;c;eA==\\a\\e[?25l');
    // Without the m, or with a parameter too long to be a colour, it is not SGR.
    expect(neutraliseControls(`${ESC}[31`, { keepSgr: true })).toBe('\\e[31');
    expect(neutraliseControls(`${ESC}[${'1;'.repeat(40)}m`, { keepSgr: true })).toBe(`\\e[${'1;'.repeat(40)}m`);
    expect(neutraliseControls(`${ESC}[31mred`)).toBe('\\e[31mred');
  });

  it('cuts input past maxChars and says how much was left out', () => {
    expect(neutraliseControls('abcdef', { maxChars: 4 })).toBe('abcd… (2 more characters not shown)');
  });

  it('takes time linear in its input: a megabyte of escape bytes or of near-SGR prefixes is quick', () => {
    // Not a timing assertion: a quadratic scan of these inputs would not finish within the test timeout.
    const escapes = ESC.repeat(1_000_000);
    expect(neutraliseControls(escapes)).toHaveLength(2_000_000);
    const nearSgr = `${ESC}[${'1'.repeat(50)}`.repeat(20_000);
    expect(neutraliseControls(nearSgr, { keepSgr: true, maxChars: 2_000_000 })).toHaveLength(nearSgr.length + 20_000);
  });
});
