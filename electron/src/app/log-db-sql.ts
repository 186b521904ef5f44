// The SQL of the log store: its schema and the conditions a log view becomes. Values are
// inlined as literals (sqlString/sqlInt) rather than bound: DuckDB prunes row groups by id
// only against constants, and compiles a regex once only when its pattern is one.
import { RE2JS } from 're2js';
import { LEVELS } from '../../../protocol/src';
import type { LogFilter } from '../../../protocol/src/bridge-logs';
import { compileLogFilter } from '../../../protocol/src/log-filter';
import { sqlInt, sqlString } from './log-db';

export const SCHEMA = [
  // One row per stored line or crash record. `id` is store-wide arrival order (rows are
  // appended in id order, so an id range is a contiguous run of row groups); `bytes` is what
  // the line counts against the budgets; `dev` is a number per device (profile and prefix), the
  // key a device's page and budget read by: comparing it costs a fraction of comparing two strings.
  'CREATE TABLE IF NOT EXISTS lines (id BIGINT, profile VARCHAR, prefix VARCHAR, received DOUBLE, level VARCHAR, time VARCHAR, name VARCHAR, text VARCHAR, bytes INTEGER, crash VARCHAR, dev INTEGER)',
  // A database written before devices had numbers gets them.
  'ALTER TABLE lines ADD COLUMN IF NOT EXISTS dev INTEGER',
  `UPDATE lines SET dev = d.dev FROM (
     SELECT profile, prefix, (SELECT coalesce(max(dev), -1) FROM lines) + row_number() OVER (ORDER BY profile, prefix) AS dev
     FROM (SELECT DISTINCT profile, prefix FROM lines WHERE dev IS NULL)) d
   WHERE lines.dev IS NULL AND lines.profile = d.profile AND lines.prefix = d.prefix`,
  // Every crash record ever stored, for de-duplication and the fleet's crash counts. Not
  // evicted with the lines: a count per day outlives the chatter around it. `crashed` is null for
  // keys carried over from the JSON-lines store without their record.
  'CREATE TABLE IF NOT EXISTS crashes (profile VARCHAR, prefix VARCHAR, key VARCHAR, crashed DOUBLE, line_id BIGINT, reason VARCHAR)',
];

export const LINE_COLUMNS = 'id, prefix, received, level, time, name, text, crash';

export interface Scope {
  profile: string;
  prefix?: string;
  /** The device's number when `prefix` is given; undefined: nothing of it is stored. */
  dev?: number;
  /** Received time range, ms since the epoch: from inclusive, to exclusive. */
  since?: number;
  until?: number;
}

/**
 * The WHERE condition for a view's scope and filter, or an error for a search that cannot run
 * (the renderer shows the same message from the same compiler). `names`: every logger name
 * stored, when the store knows them (see searchSql).
 */
export function whereSql(scope: Scope, filter: LogFilter, names?: Iterable<string>): { sql: string } | { error: string } {
  // A device's number says its profile too.
  const parts = [scope.prefix === undefined ? `profile = ${sqlString(scope.profile)}` : scope.dev === undefined ? 'false' : `dev = ${sqlInt(scope.dev)}`];
  if (scope.since !== undefined) parts.push(`received >= ${Number(scope.since)}`);
  if (scope.until !== undefined) parts.push(`received < ${Number(scope.until)}`);
  if (filter.levels && filter.levels.length < LEVELS.length) {
    parts.push(filter.levels.length ? `level IN (${filter.levels.map(sqlString).join(', ')})` : 'false');
  }
  const search = searchSql(filter, names);
  if (search && 'error' in search) return search;
  if (search) parts.push(search.sql);
  return { sql: parts.join(' AND ') };
}

/**
 * A search as SQL, with the meaning compileLogFilter gives it: the text or the logger name
 * matches. It runs in DuckDB's `regexp_matches`, which is RE2 (linear in the text whatever the
 * pattern, like re2js), after the same translation from JavaScript spellings and the same size
 * check; RE2's defaults are re2js's (`.` stops at a newline, `^`/`$` anchor the whole text). A
 * plain search is the quoted text, as in re2js, except case-sensitive, which is a substring test.
 *
 * Logger names are few: given all of them, the names that match are found here, with re2js,
 * and the database tests `name IN (…)` instead of running the pattern a second time per line.
 */
export function searchSql(f: LogFilter, names?: Iterable<string>): { sql: string } | { error: string } | null {
  const search = f.search ?? '';
  if (!search) return null;
  const compiled = compileLogFilter(f);
  if (compiled.error !== undefined) return { error: compiled.error };
  const onText = (column: string) => {
    if (!f.regex && f.caseSensitive) return `contains(${column}, ${sqlString(search)})`;
    const re = `regexp_matches(${column}, ${sqlString(`${f.caseSensitive ? '' : '(?i)'}${searchPattern(f)}`)})`;
    // A substring every match contains is found many times faster than the pattern is run
    // (a byte search against RE2 per line): the pattern only runs on the lines that have it.
    const literal = searchLiteral(f);
    return literal ? `(contains(${column}, ${sqlString(literal)}) AND ${re})` : re;
  };
  const text = onText('text');
  if (!names) return { sql: `(${text} OR ${onText('name')})` };
  const matching = [...names].filter((n) => compiled.test('I', n, ''));
  return { sql: matching.length ? `(${text} OR name IN (${matching.map(sqlString).join(', ')}))` : text };
}

/** A search as the RE2 pattern it runs as (without its case flag). */
const searchPattern = (f: LogFilter) => (f.regex ? RE2JS.translateRegExp(f.search ?? '') : RE2JS.quote(f.search ?? ''));

/**
 * A substring of the text of every line the search matches by its text (not by its logger
 * name), or null. Any search as typed when it is plain and case-sensitive; otherwise see requiredLiteral.
 */
export function searchLiteral(f: LogFilter): string | null {
  if (!f.search) return null;
  if (!f.regex && f.caseSensitive) return f.search;
  return requiredLiteral(searchPattern(f), !f.caseSensitive);
}

/** Shorter runs are not worth a pass of their own: they are in most lines anyway. */
const MIN_LITERAL = 3;
/** Escapes that stand for one character of a class or an assertion, and take no argument. */
const SIMPLE_ESCAPES = new Set('dDsSwWbBAznrtfva');

/**
 * The longest run of characters every match of an RE2 `pattern` contains as it is, or null
 * when none is worth testing or the pattern is beyond this reading. Conservative: only ASCII,
 * only outside groups and classes, nothing when the pattern has an alternative at its top or
 * sets flags for the rest of it; case-insensitively only characters without case (digits,
 * punctuation, spaces), which RE2's case folding leaves alone.
 */
export function requiredLiteral(pattern: string, caseInsensitive: boolean): string | null {
  const runs: string[] = [];
  let run = '';
  const cut = () => {
    if (run) runs.push(run);
    run = '';
  };
  const repeat = /^(?:[*?+]|\{\d+(?:,\d*)?\})\??/;
  let i = 0;
  while (i < pattern.length) {
    const c = pattern[i]!;
    let literal: string | undefined;
    if (c === '\\') {
      const e = pattern[i + 1];
      if (e === undefined) return null;
      if (/[0-9A-Za-z]/.test(e)) {
        if (!SIMPLE_ESCAPES.has(e)) return null;
      } else if (e.charCodeAt(0) < 128) literal = e;
      else return null;
      i += 2;
    } else if (c === '(') {
      if (/^\(\?[A-Za-z-]*\)/.test(pattern.slice(i))) return null;
      const end = skipGroup(pattern, i);
      if (end < 0) return null;
      i = end;
    } else if (c === '[') {
      const end = skipClass(pattern, i);
      if (end < 0) return null;
      i = end;
    } else if (c === '|' || c === ')' || c === '{' || c === '*' || c === '+' || c === '?') {
      // An alternative at the top, or a repeat or bracket this reading does not place.
      return null;
    } else {
      if (c !== '.' && c !== '^' && c !== '$') literal = c;
      i++;
    }
    const q = repeat.exec(pattern.slice(i));
    if (q) i += q[0].length;
    const usable = literal !== undefined && literal.charCodeAt(0) < 128 && !(caseInsensitive && /[A-Za-z]/.test(literal));
    if (!usable) {
      cut();
      continue;
    }
    // `x+` and `x{2}` still need one x here; `x*`, `x?` and `x{0,…}` do not.
    const optional = q !== null && (q[0][0] === '*' || q[0][0] === '?' || /^\{0[,}]/.test(q[0]));
    if (!optional) run += literal;
    if (q) cut();
  }
  cut();
  const longest = runs.reduce((a, b) => (b.length > a.length ? b : a), '');
  return longest.length >= MIN_LITERAL ? longest : null;
}

/** Index after the group opening at `at`, or -1. */
function skipGroup(p: string, at: number): number {
  let depth = 0;
  for (let i = at; i < p.length; i++) {
    const c = p[i];
    if (c === '\\') i++;
    else if (c === '[') {
      const end = skipClass(p, i);
      if (end < 0) return -1;
      i = end - 1;
    } else if (c === '(') depth++;
    else if (c === ')' && --depth === 0) return i + 1;
  }
  return -1;
}

/** Index after the character class opening at `at`, or -1. */
function skipClass(p: string, at: number): number {
  let i = at + 1;
  if (p[i] === '^') i++;
  // A `]` first is a member, not the end.
  if (p[i] === ']') i++;
  for (; i < p.length; i++) {
    const c = p[i];
    if (c === '\\') i++;
    else if (c === '[' && p[i + 1] === ':') {
      const end = p.indexOf(':]', i + 2);
      if (end < 0) return -1;
      i = end + 1;
    } else if (c === ']') return i + 1;
  }
  return -1;
}

/** Ids in [lo, hi). */
export const idRange = (lo: number, hi: number) => `id >= ${sqlInt(lo)} AND id < ${sqlInt(hi)}`;

/** Lines of these devices (their numbers). */
export const devSql = (devs: readonly number[]) => (devs.length ? `dev IN (${devs.map(sqlInt).join(', ')})` : 'false');

/** Crash records of one profile's devices, or of some of them. */
export function devicesSql(profile: string, prefixes?: readonly string[]): string {
  const p = `profile = ${sqlString(profile)}`;
  if (!prefixes) return p;
  return prefixes.length ? `(${p} AND prefix IN (${prefixes.map(sqlString).join(', ')}))` : 'false';
}
