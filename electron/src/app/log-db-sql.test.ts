import { RE2JS } from 're2js';
import { describe, expect, it } from 'vitest';
import { compileLogFilter } from '../../../protocol/src/log-filter';
import { requiredLiteral } from './log-db-sql';

const literal = (search: string, o: { regex?: boolean; caseSensitive?: boolean } = {}) =>
  requiredLiteral(o.regex ? RE2JS.translateRegExp(search) : RE2JS.quote(search), !o.caseSensitive);

describe('the substring a search needs before its pattern runs', () => {
  it('is the longest run every match contains as it is', () => {
    expect(literal('reading 99999\\d: .*rssi=-6\\d$', { regex: true, caseSensitive: true })).toBe('reading 99999');
    expect(literal('ab+c{2}d*efg', { regex: true, caseSensitive: true })).toBe('efg');
    expect(literal('wxyz?w', { regex: true, caseSensitive: true })).toBe('wxy');
    expect(literal('a\\.b\\(c', { regex: true, caseSensitive: true })).toBe('a.b(c');
  });

  it('case-insensitively, only characters without case', () => {
    expect(literal('READING 999999:')).toBe(' 999999:');
    expect(literal('reading 99999\\d: .*rssi=-6\\d$', { regex: true })).toBe(' 99999');
    expect(literal('Wi-Fi')).toBeNull();
    expect(literal('température 21°C')).toBe(' 21');
  });

  it('is nothing where a match need not contain it', () => {
    for (const search of ['abc|xyz', '(?i)abc', 'x\\x{41}bcd', 'abcd\\pLefgh', '\\Qabc\\E', 'a{', 'abc(?:d|e)', '(abc)?def']) {
      const got = literal(search, { regex: true, caseSensitive: true });
      if (search === 'abc(?:d|e)') expect(got).toBe('abc');
      else if (search === '(abc)?def') expect(got).toBe('def');
      else expect(got, search).toBeNull();
    }
  });

  it('is in every line the search matches, whatever the pattern', () => {
    const lines = ['reading 999991: rssi=-61', 'READING 999991: RSSI=-61', 'a.b(c', 'ab.b(c', 'xxyw', 'wxyw', 'wxyzw', 'abbccdefg', 'abcccefg', 'a]b:c', 'k=1 s=2', 'K=1 ſ=2', 'error 50% done', 'x-y-z'];
    const searches = ['reading 99999\\d: .*rssi=-6\\d$', 'a\\.b\\(c', 'wxyz?w', 'ab+c{2,}d*efg', '[\\]a]\\]?b:c', 'k=1 s=2', 'K=1', '[:]=1 s', '50% done', 'x-y-z', 'x\\-y-z+', '(?:a|b)c{2}', '^a.b'];
    for (const search of searches) {
      for (const regex of [true, false]) {
        for (const caseSensitive of [true, false]) {
          const f = { search, regex, caseSensitive };
          const m = compileLogFilter(f);
          if (m.error !== undefined) continue;
          const needed = literal(search, f);
          if (needed === null) continue;
          for (const text of lines) if (m.test('I', '', text)) expect(text.includes(needed), `${JSON.stringify(f)} on ${text}`).toBe(true);
        }
      }
    }
  });
});
