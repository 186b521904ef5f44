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
  // the line counts against the budgets.
  'CREATE TABLE IF NOT EXISTS lines (id BIGINT, profile VARCHAR, prefix VARCHAR, received DOUBLE, level VARCHAR, time VARCHAR, name VARCHAR, text VARCHAR, bytes INTEGER, crash VARCHAR)',
  // Every crash record ever stored, for de-duplication and the fleet's crash counts. Not
  // evicted with the lines: a count per day outlives the chatter around it. `crashed` is null for
  // keys carried over from the JSON-lines store without their record.
  'CREATE TABLE IF NOT EXISTS crashes (profile VARCHAR, prefix VARCHAR, key VARCHAR, crashed DOUBLE, line_id BIGINT, reason VARCHAR)',
];

export const LINE_COLUMNS = 'id, prefix, received, level, time, name, text, crash';

export interface Scope {
  profile: string;
  prefix?: string;
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
  const parts = [`profile = ${sqlString(scope.profile)}`];
  if (scope.prefix !== undefined) parts.push(`prefix = ${sqlString(scope.prefix)}`);
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
  let text: string;
  if (!f.regex && f.caseSensitive) text = `contains(text, ${sqlString(search)})`;
  else text = `regexp_matches(text, ${sqlString(`${f.caseSensitive ? '' : '(?i)'}${f.regex ? RE2JS.translateRegExp(search) : RE2JS.quote(search)}`)})`;
  if (!names) return { sql: `(${text} OR ${text.replace('(text,', '(name,')})` };
  const matching = [...names].filter((n) => compiled.test('I', n, ''));
  return { sql: matching.length ? `(${text} OR name IN (${matching.map(sqlString).join(', ')}))` : text };
}

/** Ids in [lo, hi). */
export const idRange = (lo: number, hi: number) => `id >= ${sqlInt(lo)} AND id < ${sqlInt(hi)}`;

/** Lines of one profile's devices, or of some of them. */
export function devicesSql(profile: string, prefixes?: readonly string[]): string {
  const p = `profile = ${sqlString(profile)}`;
  if (!prefixes) return p;
  return prefixes.length ? `(${p} AND prefix IN (${prefixes.map(sqlString).join(', ')}))` : 'false';
}
