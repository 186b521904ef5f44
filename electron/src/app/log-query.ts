// Reading the log store: a page of the newest matching lines, and an export of all of them.
// The newest lines may still be on their way to the database: those come from memory. A page
// then reads id windows, newest first; an export reads them oldest first, sized by how dense
// the matching lines are.
import { LEVELS, type CrashRecord, type Level } from '../../../protocol/src';
import type { LogFilter, LogPage, LogRecord } from '../../../protocol/src/bridge-logs';
import { compileLogFilter } from '../../../protocol/src/log-filter';
import { sqlInt, type LogDb } from './log-db';
import { idRange, LINE_COLUMNS, searchLiteral, whereSql, type Scope } from './log-db-sql';
import type { LogExportQuery, LogQuery } from './log-store-types';

/** About 1,000,000 lines per step: a regex over them answers within the page budget. */
const DEFAULT_SCAN_LIMIT = 1_000_000;
/** The first id window of a page; it grows eightfold while a sparse filter fills its page. */
const FIRST_WINDOW = 16_384;
/** The first id window of a search: about one of DuckDB's row groups (122,880 rows). */
const SEARCH_WINDOW = 131_072;
/** Export reads this many ids per step (fewer when they are dense, more when sparse). */
const EXPORT_ROWS = 16_384;
/** How long a page looks through lines in memory before it lets the event loop turn (ms). */
const TAIL_SLICE_MS = 10;

/** A line on its way to the database. */
export interface Tail {
  profile: string;
  rec: LogRecord;
}

export interface LogSource {
  db: LogDb;
  /** The id of the oldest line not yet stored (`nextId` when there is none). */
  tailStart(): number;
  /** The batches of lines not yet stored, oldest first, each in id order: a copy, as batches leave while a page walks them. */
  tail(): Tail[][];
  /** The id the next line gets. */
  nextId(): number;
  /** No id below this is stored. */
  floorId(): number;
  /** Every logger name stored, while there are few (see searchSql). */
  names(): Set<string> | undefined;
  scope(q: { prefix?: string; since?: number; until?: number }): Scope;
  /** Hands every queued line to the database. */
  sendAll(): void;
}

export interface LogQueries {
  query(q: LogQuery): Promise<LogPage>;
  each(q: LogExportQuery, fn: (r: LogRecord) => void | Promise<void>): Promise<void>;
}

const LEVEL_SET = new Set<string>(LEVELS);

function toRecord(r: Record<string, unknown>): LogRecord | undefined {
  const level = String(r.level);
  if (!LEVEL_SET.has(level)) return undefined;
  const out: LogRecord = { id: Number(r.id), prefix: String(r.prefix), received: Number(r.received), level: level as Level, time: String(r.time), name: String(r.name), text: String(r.text) };
  if (typeof r.crash === 'string') {
    try {
      out.crash = JSON.parse(r.crash) as CrashRecord;
    } catch {
      // A crash record is kept as the engine validated it; one that no longer parses is shown without its stack.
    }
  }
  return out;
}

export function createLogQueries(s: LogSource): LogQueries {
  const { db } = s;

  async function query(q: LogQuery): Promise<LogPage> {
    const scope = s.scope(q);
    const where = whereSql(scope, q.filter, s.names());
    if ('error' in where) return { records: [], cursor: null };
    const floor = s.floorId();
    const nextId = s.nextId();
    let hi = Math.min(q.before ?? nextId, nextId);
    const records: LogRecord[] = [];
    const page = (cursor: number | null): LogPage => ({ records: records.reverse(), cursor });
    // The newest lines may still be on their way to the database: those come from memory.
    const tailStart = s.tailStart();
    if (hi > tailStart) {
      for (const r of await tailNewest(s.tail(), scope, q.filter, hi, q.limit)) records.push(r);
      if (records.length >= q.limit) return page(records.at(-1)!.id);
      hi = tailStart;
    }
    let budget = q.scanLimit ?? DEFAULT_SCAN_LIMIT;
    // Fleet-wide, the newest lines are the newest ids: start small, and for a search about a
    // row group (most searches are rare, and every window is a query of its own). A device's
    // lines are spread over every id, and its number is the cheapest condition to test: one
    // pass over the budget.
    let window = q.prefix !== undefined ? budget : q.filter.search ? SEARCH_WINDOW : Math.max(FIRST_WINDOW, q.limit * 4);
    for (;;) {
      if (hi <= floor) return page(null);
      const lo = Math.max(floor, hi - Math.min(window, budget));
      const want = q.limit - records.length;
      const [rows] = await db.read([`SELECT ${LINE_COLUMNS} FROM lines WHERE ${where.sql} AND ${idRange(lo, hi)} ORDER BY id DESC LIMIT ${sqlInt(want)}`]);
      for (const row of rows!) {
        const r = toRecord(row);
        if (r) records.push(r);
      }
      budget -= hi - lo;
      if (rows!.length >= want) {
        const oldest = records.at(-1)!.id;
        return page(oldest > floor ? oldest : null);
      }
      hi = lo;
      if (hi <= floor) return page(null);
      if (budget <= 0) return page(hi);
      window *= 8;
    }
  }

  /**
   * Up to `limit` lines on their way to the database, below `before`, that a view with this
   * scope and filter shows, newest first. They are in id order (only live lines go this way),
   * so the walk back stops as soon as the page is full. When the database is far behind and the
   * search rare, the walk is long: it lets the event loop run every few thousand lines.
   */
  async function tailNewest(batches: Tail[][], scope: Scope, filter: LogFilter, before: number, limit: number): Promise<LogRecord[]> {
    const match = compileLogFilter(filter);
    // As in the database: a line without the substring every text match needs is matched by
    // its logger name or not at all, and names are few, so each is tested once.
    const literal = searchLiteral(filter);
    const byName = compileLogFilter({ ...filter, levels: undefined });
    const names = new Map<string, boolean>();
    const nameMatches = (name: string) => {
      let hit = names.get(name);
      if (hit === undefined) names.set(name, (hit = byName.test('I', name, '')));
      return hit;
    };
    const out: LogRecord[] = [];
    let walked = 0;
    let slice = performance.now();
    for (let b = batches.length - 1; b >= 0; b--) {
      const recs = batches[b]!;
      for (let i = recs.length - 1; i >= 0; i--) {
        // By time, not by count: a turn of a busy event loop costs more than most walks.
        if (++walked % 1_000 === 0 && performance.now() - slice > TAIL_SLICE_MS) {
          await new Promise((resolve) => setImmediate(resolve));
          slice = performance.now();
        }
        const t = recs[i]!;
        const r = t.rec;
        if (r.id >= before || t.profile !== scope.profile || (scope.prefix !== undefined && r.prefix !== scope.prefix)) continue;
        if ((scope.since !== undefined && r.received < scope.since) || (scope.until !== undefined && r.received >= scope.until)) continue;
        if (literal !== null && !r.text.includes(literal) && !nameMatches(r.name)) continue;
        if (!match.test(r.level, r.name, r.text)) continue;
        out.push(r);
        if (out.length >= limit) return out;
      }
    }
    return out;
  }

  async function each(q: LogExportQuery, fn: (r: LogRecord) => void | Promise<void>) {
    // Lines that arrive during a long export are not part of it.
    const end = s.nextId();
    s.sendAll();
    // An export is slow anyway: it reads everything from the database, after what is in flight.
    await db.syncedRead([]);
    const where = whereSql(s.scope(q), q.filter, s.names());
    if ('error' in where) return;
    let lo = s.floorId();
    let window = EXPORT_ROWS;
    while (lo < end) {
      const hi = Math.min(end, lo + window);
      const [rows] = await db.read([`SELECT ${LINE_COLUMNS} FROM lines WHERE ${where.sql} AND ${idRange(lo, hi)} ORDER BY id`]);
      for (const r of rows!) {
        const rec = toRecord(r);
        if (rec) await fn(rec);
      }
      lo = hi;
      // Few rows in the window (one device of many, a rare level): look further at once.
      if (rows!.length < EXPORT_ROWS / 4) window = Math.min(window * 4, 4 * 1024 * 1024);
      else if (rows!.length > EXPORT_ROWS) window = Math.max(EXPORT_ROWS, Math.floor(window / 2));
    }
  }

  return { query, each };
}
