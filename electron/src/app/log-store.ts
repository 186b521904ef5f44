// The app host's log store: every line and crash record from every device is kept, whether or
// not a view is open, and survives an app restart. It lives in one DuckDB database
// (<dir>/logs.duckdb, run on its own thread: log-db.ts), so a fleet-wide page or search is one
// columnar scan instead of a walk through a folder per device.
//
// Ids grow store-wide with every record, so they order the whole fleet by arrival and let a
// fleet view interleave devices without comparing clocks. They are assigned here, at once, so
// the live `logs` stream carries them before the line reaches the disk; rows are appended in
// id order, which makes an id range a contiguous run of the table that DuckDB reads alone.
//
// History is keyed by broker profile and prefix: the same prefix on two brokers is two
// devices. `setProfile` says which broker the lines arriving from now on (and the views) are for.
//
// Budgets: each device keeps at most `segmentBytes × segmentsPerDevice` (a chatty device cannot
// evict a quiet one's history); above `totalBytes` the oldest lines of the whole store go. A
// device or store over its budget loses its oldest lines in one step of `segmentBytes` (the
// store: a sixteenth of its budget, at least that), so eviction runs now and then on the
// database thread, never per line and never on the host's.
//
// Private: other users of the machine must not read what devices log, so the folder is 0700
// and the database 0600 whatever the umask, tightened again when it opens.
import { existsSync } from 'node:fs';
import { chmod, mkdir, rename } from 'node:fs/promises';
import path from 'node:path';
import { formatDeviceTime, LEVELS, type CrashRecord, type Level } from '../../../protocol/src';
import type { LogFilter, LogPage, LogRecord } from '../../../protocol/src/bridge-logs';
import { openLogDb, sqlInt, sqlString, type LineRow } from './log-db';
import { compileLogFilter } from '../../../protocol/src/log-filter';
import { devicesSql, devSql, idRange, LINE_COLUMNS, SCHEMA, searchLiteral, whereSql, type Scope } from './log-db-sql';
import { findLegacyDevices, legacyRecords, removeLegacyDevice, type LegacyDevice } from './log-legacy';

export interface LogStoreOptions {
  dir: string;
  /** Eviction step of a device over its budget (default 2 MiB). */
  segmentBytes?: number;
  /** A device's budget in steps (default 4: 8 MiB per device). */
  segmentsPerDevice?: number;
  /** Cap on the whole store (default 512 MiB). */
  totalBytes?: number;
  /** How long lines wait before they go to the database (default 250 ms). */
  flushMs?: number;
  /** Profile key the JSON-lines history of older versions is imported under (default `default`). */
  legacyProfile?: string;
  /** DuckDB's memory limit (default 128MB: a million lines take about 30 MB, compressed). */
  memoryLimit?: string;
}

/** A line to store, as the engine delivers it. */
export interface IncomingLine {
  prefix: string;
  received: number;
  level: Level;
  time: string;
  name: string;
  text: string;
  crash?: CrashRecord;
}

export interface LogQuery {
  prefix?: string;
  filter: LogFilter;
  before?: number;
  limit: number;
  /** Received time range, ms since the epoch: `since` inclusive, `until` exclusive. */
  since?: number;
  until?: number;
  /** Stops after looking through this many ids, so a rare search answers in steps the renderer continues. */
  scanLimit?: number;
}

export interface CrashCount {
  prefix: string;
  count: number;
  /** When the newest crash happened, ms since the epoch. */
  last: number;
}

export interface CrashDay {
  /** `YYYY-MM-DD` in the caller's time zone (utcOffsetMinutes). */
  day: string;
  count: number;
}

export interface LogStore {
  /** Which broker's history lines arriving from now on, and every view, belong to. */
  setProfile(key: string): void;
  profile(): string;
  /** Queues lines for writing and returns them with their ids (same order). */
  append(lines: IncomingLine[]): LogRecord[];
  /**
   * Stores the crash records not stored before (devices re-publish their retained records on
   * every connection; each is kept once, across restarts) as critical lines, oldest first.
   */
  appendCrashes(prefix: string, records: CrashRecord[], received: number): LogRecord[];
  /** Newest matching records before `before`, oldest first, and where to continue. */
  query(q: LogQuery): Promise<LogPage>;
  /** Every matching record, oldest first (export); `fn` may return a promise to apply backpressure. */
  each(q: Omit<LogQuery, 'before' | 'limit' | 'scanLimit'>, fn: (r: LogRecord) => void | Promise<void>): Promise<void>;
  /** Crash records per device of a profile (default: the current one). */
  crashCounts(profile?: string): Promise<CrashCount[]>;
  /** Crash records per day for the last `days` days, oldest first, days without crashes included. */
  crashesPerDay(profile: string | undefined, days: number, o?: { prefix?: string; now?: number; utcOffsetMinutes?: number }): Promise<CrashDay[]>;
  /** Removes a device's lines and crash records (current profile). */
  forgetDevice(prefix: string): Promise<void>;
  /** Writes everything queued, evictions included. */
  flush(): Promise<void>;
  /** Budgeted bytes per device of the current profile (tests, diagnostics). */
  usage(): Map<string, number>;
  /** Settles when the JSON-lines history of an older version is imported (its line count). */
  imported: Promise<number>;
  close(): Promise<void>;
}

export const DEFAULT_PROFILE = 'default';
export const DB_FILE = 'logs.duckdb';
const DEFAULTS = { segmentBytes: 2 * 1024 * 1024, segmentsPerDevice: 4, totalBytes: 512 * 1024 * 1024, flushMs: 250, legacyProfile: DEFAULT_PROFILE, memoryLimit: '128MB' };
/** About 1,000,000 lines per step: a regex over them answers within the page budget. */
const DEFAULT_SCAN_LIMIT = 1_000_000;
/** The first id window of a page; it grows eightfold while a sparse filter fills its page. */
const FIRST_WINDOW = 16_384;
/** The first id window of a search: about one of DuckDB's row groups (122,880 rows). */
const SEARCH_WINDOW = 131_072;
/** Bytes are counted per block of ids, to find the oldest lines to drop without asking the database. */
const BLOCK = 16_384;
/** Export reads this many ids per step (fewer when they are dense, more when sparse). */
const EXPORT_ROWS = 16_384;
const DIR_MODE = 0o700;
const FILE_MODE = 0o600;
/** A device clock before 2020 is not a clock: such a crash is dated when it was received. */
const PLAUSIBLE_CLOCK = Date.UTC(2020, 0, 1);
const DAY = 86_400_000;
/** Batches handed to the database thread and not yet stored, before more wait to join a larger one. */
const MAX_IN_FLIGHT = 2;
/** How long a page looks through lines in memory before it lets the event loop turn (ms). */
const TAIL_SLICE_MS = 10;
/** Lines per batch handed to the database thread. */
const MAX_BATCH = 10_000;
/** Beyond this many distinct logger names, a search runs its pattern over names in the database too. */
const MAX_NAMES = 2_000;

/** A line on its way to the database. */
interface Tail {
  profile: string;
  rec: LogRecord;
}

interface Device {
  profile: string;
  prefix: string;
  bytes: number;
}

const deviceKey = (profile: string, prefix: string) => `${profile}\0${prefix}`;
/** A device may reuse ids after a wipe; with the crash time the key stays unique. */
export const crashKey = (c: CrashRecord) => `${c.id}@${c.time}`;

export async function openLogStore(o: LogStoreOptions): Promise<LogStore> {
  const cfg = { ...DEFAULTS, ...o };
  await mkdir(cfg.dir, { recursive: true, mode: DIR_MODE });
  await tighten(cfg.dir, DIR_MODE);
  const file = path.join(cfg.dir, DB_FILE);
  const warn = (m: string) => console.warn(`log store: ${m}`);
  // Lines handed to the database thread but not confirmed stored yet, per append: queries
  // answer for them from here, so a page never waits for a commit.
  const inFlight: { seq: number; recs: Tail[] }[] = [];
  const dbOptions = {
    file,
    memoryLimit: cfg.memoryLimit,
    setup: SCHEMA,
    warn,
    onStored(seq: number) {
      while (inFlight.length && inFlight[0]!.seq <= seq) inFlight.shift();
    },
  };
  let memoryOnly = false;
  const db = await openLogDb(dbOptions).catch(async (e: unknown) => {
    const why = e instanceof Error ? e.message : String(e);
    if (!existsSync(file)) throw e;
    if (/Could not set lock/i.test(why)) {
      // Another MQBoard (the desktop app and web mode on one settings folder) has the history
      // open, and one process may write it: this one keeps its lines while it runs.
      warn(`the log history is open in another MQBoard process; this one keeps logs in memory only (${why})`);
      memoryOnly = true;
      return openLogDb({ ...dbOptions, file: ':memory:' });
    }
    // A database that does not open (damaged by a full disk, written by a newer DuckDB) must
    // not keep the app from starting: it is set aside, kept for the user, and a new one begins.
    const aside = `${file}.unreadable-${Date.now()}`;
    warn(`could not open ${file} (${why}); kept as ${aside}, starting a new log history`);
    await rename(file, aside);
    await rename(`${file}.wal`, `${aside}.wal`).catch(() => {});
    return openLogDb(dbOptions);
  });
  if (!memoryOnly) await tighten(file, FILE_MODE);

  const deviceBudget = cfg.segmentBytes * cfg.segmentsPerDevice;
  const deviceKeep = deviceBudget - cfg.segmentBytes;
  const totalKeep = cfg.totalBytes - Math.max(cfg.segmentBytes, Math.floor(cfg.totalBytes / 16));

  const devices = new Map<string, Device>();
  /**
   * Each device's number in the database (`dev`), kept while the process runs even when its
   * lines are gone, so lines of one device never carry two numbers; at open, from the lines.
   */
  const devs = new Map<string, number>();
  let nextDev = 0;
  const blocks = new Map<number, number>();
  const crashKeys = new Map<string, Set<string>>();
  let total = 0;
  let nextId = 0;
  /** Every logger name stored, while there are few (see searchSql); undefined once there are too many. */
  let names: Set<string> | undefined = new Set();
  const [deviceRows, blockRows, maxRows, crashRows, nameRows] = await db.syncedRead([
    'SELECT profile, prefix, min(dev) AS dev, sum(bytes)::BIGINT AS bytes FROM lines GROUP BY ALL',
    `SELECT id // ${BLOCK} AS block, sum(bytes)::BIGINT AS bytes FROM lines GROUP BY ALL`,
    'SELECT max(id) AS id FROM lines',
    'SELECT profile, prefix, key FROM crashes',
    `SELECT DISTINCT name FROM lines LIMIT ${MAX_NAMES + 1}`,
  ]);
  for (const r of nameRows!) noteName(String(r.name));
  for (const r of deviceRows!) {
    devs.set(deviceKey(String(r.profile), String(r.prefix)), Number(r.dev));
    nextDev = Math.max(nextDev, Number(r.dev) + 1);
    addBytes(String(r.profile), String(r.prefix), Number(r.bytes), -1);
  }
  for (const r of blockRows!) blocks.set(Number(r.block), Number(r.bytes));
  for (const r of crashRows!) keysOf(String(r.profile), String(r.prefix)).add(String(r.key));
  nextId = Number(maxRows![0]?.id ?? -1) + 1;

  // The process that has the database open imports the old history, not this one.
  const legacy = memoryOnly ? [] : await findLegacyDevices(cfg.dir).catch((e: unknown) => {
    warn(`could not read the old JSON-lines history: ${e instanceof Error ? e.message : e}`);
    return [] as LegacyDevice[];
  });
  for (const d of legacy) nextId = Math.max(nextId, d.lastId + 1);

  let profile = DEFAULT_PROFILE;
  let queued: LineRow[] = [];
  let queuedRecs: Tail[] = [];
  let timer: ReturnType<typeof setTimeout> | undefined;
  let evicting: Promise<void> | undefined;
  let closed = false;
  let stopImport = false;

  function noteName(name: string) {
    if (!names || names.has(name)) return;
    names.add(name);
    if (names.size > MAX_NAMES) names = undefined;
  }

  function devOf(p: string, prefix: string): number {
    const k = deviceKey(p, prefix);
    let dev = devs.get(k);
    if (dev === undefined) devs.set(k, (dev = nextDev++));
    return dev;
  }

  function keysOf(p: string, prefix: string): Set<string> {
    const k = deviceKey(p, prefix);
    let s = crashKeys.get(k);
    if (!s) crashKeys.set(k, (s = new Set()));
    return s;
  }

  /** `id` -1: bytes known per device only (at open, where blocks are loaded separately). */
  function addBytes(p: string, prefix: string, bytes: number, id: number) {
    const k = deviceKey(p, prefix);
    let d = devices.get(k);
    if (!d) devices.set(k, (d = { profile: p, prefix, bytes: 0 }));
    d.bytes += bytes;
    total += bytes;
    if (id >= 0) {
      const b = Math.floor(id / BLOCK);
      blocks.set(b, (blocks.get(b) ?? 0) + bytes);
    }
  }

  function row(p: string, r: LogRecord): LineRow {
    const crash = r.crash ? JSON.stringify(r.crash) : null;
    // Characters, not UTF-8 bytes: cheap to count on the host's thread, and what the budget is
    // for (a bound on what is kept) does not need more.
    const bytes = 40 + r.prefix.length + r.time.length + r.name.length + r.text.length + (crash?.length ?? 0);
    addBytes(p, r.prefix, bytes, r.id);
    noteName(r.name);
    const c = r.crash;
    return [r.id, p, r.prefix, r.received, r.level, r.time, r.name, r.text, bytes, crash, c ? crashKey(c) : null, c ? crashTime(c, r.received) : null, c ? c.reason : null, devOf(p, r.prefix)];
  }

  function queue(p: string, recs: LogRecord[]) {
    for (const r of recs) {
      queued.push(row(p, r));
      queuedRecs.push({ profile: p, rec: r });
    }
    if (closed) return;
    timer ??= setTimeout(() => send(false), cfg.flushMs);
  }

  /** Hands the queue to the database thread and starts an eviction if a budget is exceeded. */
  function send(force = true) {
    if (timer) clearTimeout(timer);
    timer = undefined;
    // Batches of a bounded size: one JSON.stringify on this thread stays short however far
    // behind the database is. While two are in flight, lines wait for the next turn (the
    // database catches up by committing fewer, larger batches) unless a caller needs them all.
    while (queued.length && (force || inFlight.length < MAX_IN_FLIGHT)) {
      const rows = queued.length > MAX_BATCH ? queued.splice(0, MAX_BATCH) : queued;
      const recs = queuedRecs.length > MAX_BATCH ? queuedRecs.splice(0, MAX_BATCH) : queuedRecs;
      if (rows === queued) {
        queued = [];
        queuedRecs = [];
      }
      inFlight.push({ seq: db.append(rows), recs });
    }
    if (queued.length && !closed) timer = setTimeout(() => send(false), cfg.flushMs);
    evicting ??= evict().finally(() => {
      evicting = undefined;
    });
  }

  async function evict(): Promise<void> {
    for (let round = 0; round < 4; round++) {
      const over = [...devices.values()].filter((d) => d.bytes > deviceBudget);
      if (over.length) {
        // Per device: drop from the oldest until what is newer fits `deviceKeep`.
        await dropVictims(`SELECT profile, prefix, id, bytes FROM (
            SELECT profile, prefix, id, bytes, sum(bytes) OVER (PARTITION BY dev ORDER BY id DESC ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS newer
            FROM lines WHERE ${devSql(over.map((d) => devOf(d.profile, d.prefix)))}) WHERE newer > ${sqlInt(deviceKeep)}`);
        continue;
      }
      if (total > cfg.totalBytes) {
        // The whole store: drop the oldest lines, whoever sent them, until the rest fits.
        const need = total - totalKeep;
        let end = 0;
        let sum = 0;
        for (const b of [...blocks.keys()].sort((x, y) => x - y)) {
          sum += blocks.get(b)!;
          end = (b + 1) * BLOCK;
          if (sum >= need) break;
        }
        await dropVictims(`SELECT profile, prefix, id, bytes FROM (
            SELECT profile, prefix, id, bytes, sum(bytes) OVER (ORDER BY id ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) - bytes AS older
            FROM lines WHERE id < ${sqlInt(end)}) WHERE older < ${sqlInt(need)}`);
        continue;
      }
      return;
    }
  }

  /** Deletes the lines `victims` selects and takes their bytes off the budgets. */
  async function dropVictims(victims: string, extra: string[] = []): Promise<void> {
    let results: Record<string, unknown>[][];
    try {
      results = await db.write([
        `CREATE OR REPLACE TEMP TABLE victims AS ${victims}`,
        'SELECT profile, prefix, sum(bytes)::BIGINT AS bytes FROM victims GROUP BY ALL',
        `SELECT id // ${BLOCK} AS block, sum(bytes)::BIGINT AS bytes FROM victims GROUP BY ALL`,
        'DELETE FROM lines WHERE id IN (SELECT id FROM victims)',
        'DROP TABLE victims',
        ...extra,
      ]);
    } catch (e) {
      warn(`could not drop old lines: ${e instanceof Error ? e.message : e}`);
      return;
    }
    for (const r of results[1]!) {
      const k = deviceKey(String(r.profile), String(r.prefix));
      const d = devices.get(k);
      if (!d) continue;
      d.bytes -= Number(r.bytes);
      total -= Number(r.bytes);
      if (d.bytes <= 0) devices.delete(k);
    }
    for (const r of results[2]!) {
      const b = Number(r.block);
      const left = (blocks.get(b) ?? 0) - Number(r.bytes);
      if (left > 0) blocks.set(b, left);
      else blocks.delete(b);
    }
  }

  /** No id below this is stored (a block's start: a bound, not the exact oldest id). */
  function floorId(): number {
    let min = Infinity;
    for (const b of blocks.keys()) if (b < min) min = b;
    return min === Infinity ? nextId : min * BLOCK;
  }

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

  async function query(q: LogQuery): Promise<LogPage> {
    const scope = scopeOf(q);
    const where = whereSql(scope, q.filter, names);
    if ('error' in where) return { records: [], cursor: null };
    const floor = floorId();
    let hi = Math.min(q.before ?? nextId, nextId);
    const records: LogRecord[] = [];
    const page = (cursor: number | null): LogPage => ({ records: records.reverse(), cursor });
    // The newest lines may still be on their way to the database: those come from memory.
    const tailStart = inFlight[0]?.recs[0]?.rec.id ?? queuedRecs[0]?.rec.id ?? nextId;
    if (hi > tailStart) {
      for (const r of await tailNewest(scope, q.filter, hi, q.limit)) records.push(r);
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
  async function tailNewest(scope: Scope, filter: LogFilter, before: number, limit: number): Promise<LogRecord[]> {
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
    // A copy: the queue is spliced as batches leave while this walk waits.
    const batches = [...inFlight.map((b) => b.recs), queuedRecs.slice()];
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

  async function each(q: Omit<LogQuery, 'before' | 'limit' | 'scanLimit'>, fn: (r: LogRecord) => void | Promise<void>) {
    // Lines that arrive during a long export are not part of it.
    const end = nextId;
    send();
    // An export is slow anyway: it reads everything from the database, after what is in flight.
    await db.syncedRead([]);
    const where = whereSql(scopeOf(q), q.filter, names);
    if ('error' in where) return;
    let lo = floorId();
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

  function scopeOf(q: { prefix?: string; since?: number; until?: number }): Scope {
    const dev = q.prefix === undefined ? undefined : devs.get(deviceKey(profile, q.prefix));
    return { profile, prefix: q.prefix, dev, since: q.since, until: q.until };
  }

  function append(lines: IncomingLine[]): LogRecord[] {
    const out: LogRecord[] = [];
    if (closed) return out;
    for (const l of lines) {
      out.push({ id: nextId++, prefix: l.prefix, received: l.received, level: l.level, time: l.time, name: l.name, text: l.text, ...(l.crash ? { crash: l.crash } : {}) });
    }
    if (out.length) queue(profile, out);
    return out;
  }

  async function importLegacy(): Promise<number> {
    let lines = 0;
    for (const d of legacy) {
      if (stopImport) break;
      const p = cfg.legacyProfile;
      try {
        // A start that stopped halfway through this device left some of its lines: start over.
        await dropVictims(`SELECT profile, prefix, id, bytes FROM lines WHERE ${devSql([devOf(p, d.prefix)])} AND id <= ${sqlInt(Math.max(d.lastId, 0))}`, [
          `DELETE FROM crashes WHERE ${devicesSql(p, [d.prefix])} AND (line_id IS NULL OR line_id <= ${sqlInt(Math.max(d.lastId, 0))})`,
        ]);
        const keys = keysOf(p, d.prefix);
        for await (const batch of legacyRecords(d, 5_000)) {
          if (stopImport) break;
          // Not through the queue: old lines are not live, and the queue's lines must be in id
          // order for pages to read them from memory.
          db.append(batch.map((r) => row(p, r)));
          for (const r of batch) if (r.crash) keys.add(crashKey(r.crash));
          lines += batch.length;
          send();
          // Backpressure: the old history may be far larger than memory should hold at once,
          // so the import waits for the database (and any eviction) before reading on.
          await evicting;
          await db.write([]);
        }
        if (stopImport) break;
        // Keys of records whose lines were rotated away still stop a re-published record from being stored again.
        const orphans = d.crashKeys.filter((k) => !keys.has(k));
        for (const k of orphans) keys.add(k);
        send();
        await db.write(orphans.length ? [`INSERT INTO crashes VALUES ${orphans.map((k) => `(${sqlString(p)}, ${sqlString(d.prefix)}, ${sqlString(k)}, NULL, NULL, NULL)`).join(', ')}`] : []);
        await removeLegacyDevice(d);
      } catch (e) {
        warn(`could not import the old history of ${d.prefix}: ${e instanceof Error ? e.message : e}`);
      }
    }
    return lines;
  }

  const imported = legacy.length ? importLegacy() : Promise.resolve(0);

  return {
    setProfile(key) {
      profile = key;
    },
    profile: () => profile,
    append,
    appendCrashes(prefix, records, received) {
      const keys = keysOf(profile, prefix);
      const fresh = records.filter((c) => !keys.has(crashKey(c)));
      for (const c of fresh) keys.add(crashKey(c));
      // Oldest first, like log lines; the engine lists them newest first or in any order.
      fresh.sort((a, b) => a.time - b.time);
      return append(fresh.map((c) => crashLine(prefix, c, received)));
    },
    query,
    each,
    async crashCounts(p = profile) {
      send();
      const [rows] = await db.syncedRead([
        `SELECT prefix, count(*)::BIGINT AS count, max(crashed) AS last FROM crashes WHERE profile = ${sqlString(p)} AND crashed IS NOT NULL GROUP BY prefix ORDER BY prefix`,
      ]);
      return rows!.map((r) => ({ prefix: String(r.prefix), count: Number(r.count), last: Number(r.last) }));
    },
    async crashesPerDay(p, days, opt = {}) {
      const n = Math.max(1, Math.min(3660, Math.floor(days)));
      const offset = Math.round((opt.utcOffsetMinutes ?? 0) * 60_000);
      const today = Math.floor(((opt.now ?? Date.now()) + offset) / DAY);
      const first = today - n + 1;
      send();
      const [rows] = await db.syncedRead([
        `SELECT floor((crashed + ${sqlInt(offset)}) / ${DAY})::BIGINT AS day, count(*)::BIGINT AS count FROM crashes
         WHERE profile = ${sqlString(p ?? profile)}${opt.prefix !== undefined ? ` AND prefix = ${sqlString(opt.prefix)}` : ''}
           AND crashed >= ${sqlInt(first * DAY - offset)} AND crashed < ${sqlInt((today + 1) * DAY - offset)} GROUP BY ALL`,
      ]);
      const counts = new Map(rows!.map((r) => [Number(r.day), Number(r.count)]));
      return Array.from({ length: n }, (_, i) => ({ day: new Date((first + i) * DAY).toISOString().slice(0, 10), count: counts.get(first + i) ?? 0 }));
    },
    async forgetDevice(prefix) {
      const p = profile;
      send();
      const dev = devs.get(deviceKey(p, prefix));
      await dropVictims(`SELECT profile, prefix, id, bytes FROM lines WHERE ${devSql(dev === undefined ? [] : [dev])}`, [`DELETE FROM crashes WHERE ${devicesSql(p, [prefix])}`]);
      crashKeys.delete(deviceKey(p, prefix));
      devices.delete(deviceKey(p, prefix));
    },
    async flush() {
      send();
      while (evicting) await evicting;
      await db.write([]);
    },
    usage() {
      const m = new Map<string, number>();
      for (const d of devices.values()) if (d.profile === profile) m.set(d.prefix, d.bytes);
      return m;
    },
    imported,
    async close() {
      if (closed) return;
      stopImport = true;
      await imported;
      send();
      closed = true;
      while (evicting) await evicting;
      await db.close();
    },
  };
}

const LEVEL_SET = new Set<string>(LEVELS);

function crashTime(c: CrashRecord, received: number): number {
  return c.time >= PLAUSIBLE_CLOCK ? c.time : received;
}

/** A crash record as a critical line (its stack travels along in `crash`). */
export function crashLine(prefix: string, c: CrashRecord, received: number): IncomingLine {
  return { prefix, received, level: 'C', time: formatDeviceTime(0, c.time), name: 'crash', text: `${c.reason}: ${c.message}`, crash: c };
}

/** Best effort: a file the user cannot chmod (another owner's) must not keep the app from starting. */
async function tighten(p: string, mode: number): Promise<void> {
  await chmod(p, mode).catch((e: unknown) => console.warn(`log store: could not make ${p} private:`, e instanceof Error ? e.message : e));
}
