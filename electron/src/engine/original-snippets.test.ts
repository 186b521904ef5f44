import { describe, expect, it } from 'vitest';
import { parseLsResult, parsePyLiteral, parseShaResult, resetSnippet, snippets } from './original-snippets';

describe('MicroPython snippets', () => {
  it('each fits one eval message (the board refuses multi-message evals)', () => {
    const all = [snippets.ls('/a', true), snippets.sha256Dir('/a'), snippets.rm('/a', true), snippets.mkdir('/a/b', true)];
    for (const s of all) for (const code of [...s.setup, s.expr]) expect(new TextEncoder().encode(code).length).toBeLessThanOrEqual(1400);
  });

  it('quotes any path as a Python string literal', () => {
    expect(snippets.rm("/it's \"odd\"\\.py", false).expr).toBe('_mqb_rm("/it\'s \\"odd\\"\\\\.py", False)');
  });

  it('resets through the watchdog module with the original mode letters', () => {
    expect(resetSnippet('normal')).toContain("reset('n')");
    expect(resetSnippet('safe')).toContain("reset('f')");
    expect(resetSnippet('soft')).toContain("reset('s')");
    expect(resetSnippet('hard')).toContain('machine.reset()');
  });
});

describe('reading repr() replies', () => {
  it('parses lists, tuples, strings with escapes, numbers, None and booleans', () => {
    expect(parsePyLiteral(`[('a\\'b', 1, None), ("x\\ny", -2, True), (), 'caf\\xe9']`)).toEqual([
      ["a'b", 1, null],
      ['x\ny', -2, true],
      [],
      'café',
    ]);
  });

  it('reads ls entries, tolerating ports that give no size', () => {
    expect(parseLsResult("[('lib', 1, None), ('main.py', 0, 120), ('boot.py', 0, None)]")).toEqual([
      { name: 'lib', type: 'dir' },
      { name: 'main.py', type: 'file', size: 120 },
      { name: 'boot.py', type: 'file' },
    ]);
  });

  it('rejects replies that are not what the snippet returns', () => {
    expect(() => parsePyLiteral('[1, 2')).toThrow();
    expect(() => parsePyLiteral('<function>')).toThrow();
    expect(() => parseShaResult("'abc'")).toThrow();
    expect(() => parseLsResult("'not a list'")).toThrow();
  });
});
