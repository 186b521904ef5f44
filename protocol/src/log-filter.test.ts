import { describe, expect, it } from 'vitest';
import { compileLogFilter, splitHighlights } from './log-filter';

describe('log filter', () => {
  it('keeps only the chosen levels', () => {
    const m = compileLogFilter({ levels: ['E', 'C'] });
    expect(m.test('E', 'main', 'x')).toBe(true);
    expect(m.test('C', 'main', 'x')).toBe(true);
    expect(m.test('W', 'main', 'x')).toBe(false);
  });

  it('treats plain search text literally and case-insensitively by default', () => {
    const m = compileLogFilter({ search: 'a.b(' });
    expect(m.test('I', 'n', 'xx A.B( yy')).toBe(true);
    expect(m.test('I', 'n', 'aXb(')).toBe(false);
    expect(compileLogFilter({ search: 'Boom', caseSensitive: true }).test('I', 'n', 'boom')).toBe(false);
  });

  it('matches the logger name too', () => {
    expect(compileLogFilter({ search: 'wifi' }).test('I', 'wifi', 'connected')).toBe(true);
  });

  it('runs regexes and reports one that does not compile', () => {
    const m = compileLogFilter({ search: '^temp=\\d+$', regex: true });
    expect(m.test('I', 'n', 'temp=42')).toBe(true);
    expect(m.test('I', 'n', 'temp=x')).toBe(false);
    const bad = compileLogFilter({ search: '(', regex: true });
    expect(bad.error).toBeTruthy();
    expect(bad.test('I', 'n', '(')).toBe(false);
  });

  it('runs a pattern that would backtrack for ever in linear time', () => {
    // A backtracking engine tries every split of the line between ten `.*`: this never returns there.
    const m = compileLogFilter({ search: '.*.*.*.*.*.*.*.*.*.*x', regex: true });
    expect(m.error).toBeUndefined();
    const line = 'a'.repeat(20_000);
    expect(m.test('I', 'n', line)).toBe(false);
    expect(m.highlights(line)).toEqual([]);
    expect(m.test('I', 'n', `${line}x`)).toBe(true);
  });

  it('says what it cannot do instead of throwing: lookaround and backreferences', () => {
    const ahead = compileLogFilter({ search: 'a(?=b)', regex: true });
    expect(ahead.error).toMatch(/^unsupported regular expression: no lookaround/);
    expect(ahead.test('I', 'n', 'ab')).toBe(false);
    expect(compileLogFilter({ search: '(a)\\1', regex: true }).error).toMatch(/^unsupported regular expression: no backreferences/);
    expect(compileLogFilter({ search: '[', regex: true }).error).toBe('invalid regular expression: missing closing ]: `[`');
  });

  it('reads JavaScript spellings of escapes and named groups', () => {
    expect(compileLogFilter({ search: '\\u00e9t\\u00e9', regex: true }).test('I', 'n', 'summer: été')).toBe(true);
    expect(compileLogFilter({ search: '(?<n>\\d+)ms', regex: true }).highlights('took 42ms')).toEqual([[5, 9]]);
  });

  it('highlights in string positions beyond the Basic Multilingual Plane', () => {
    expect(compileLogFilter({ search: 'é' }).highlights('😀É😀é')).toEqual([[2, 3], [5, 6]]);
  });

  it('highlights every match, and survives patterns that match the empty string', () => {
    const m = compileLogFilter({ search: 'o', regex: false });
    expect(m.highlights('foo bOo')).toEqual([[1, 2], [2, 3], [5, 6], [6, 7]]);
    expect(compileLogFilter({ search: 'x*', regex: true }).highlights('axxb')).toEqual([[1, 3]]);
    expect(compileLogFilter({}).highlights('abc')).toEqual([]);
  });

  it('finds a long plain-text search however long, highlighting each occurrence once', () => {
    const message = `sensor bus timeout after ${'x'.repeat(400)} retries`;
    const m = compileLogFilter({ search: message.toUpperCase() });
    expect(m.error).toBeUndefined();
    expect(m.test('E', 'i2c', `E: ${message} (3)`)).toBe(true);
    expect(m.highlights(`E: ${message}`)).toEqual([[3, 3 + message.length]]);
    expect(compileLogFilter({ search: 'aa' }).highlights('aaaaa')).toEqual([[0, 2], [2, 4]]);
    // Folding that changes the text's length (İ lowercases to two characters) keeps positions true.
    expect(compileLogFilter({ search: 'é' }).highlights('İ é')).toEqual([[2, 3]]);
  });

  it('splits text into plain and highlighted parts', () => {
    expect(splitHighlights('hello world', [[0, 5]])).toEqual([
      { text: 'hello', hit: true },
      { text: ' world', hit: false },
    ]);
    expect(splitHighlights('', [])).toEqual([{ text: '', hit: false }]);
  });
});
