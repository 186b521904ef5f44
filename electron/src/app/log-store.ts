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
// Here: ids, device numbers and the write queue. Elsewhere: the file (log-store-file.ts),
// budgets and eviction (log-budget.ts), pages and exports (log-query.ts), crash records
// (log-crashes.ts).
import type { LogRecord } from '../../../protocol/src/bridge-logs';
import { BLOCK, createLogBudget } from './log-budget';
import { countCrashes, countCrashesPerDay, crashKey, crashLine, crashTime } from './log-crashes';
import { sqlInt, sqlString, type LineRow } from './log-db';
import { devicesSql, devSql, SCHEMA, type Scope } from './log-db-sql';
import { findLegacyDevices, legacyRecords, removeLegacyDevice, type LegacyDevice } from './log-legacy';
import { createLogQueries, type Tail } from './log-query';
import { openLogFile } from './log-store-file';
import type { IncomingLine, LogStore, LogStoreOptions } from './log-store-types';

export type { CrashCount, CrashDay, IncomingLine, LogQuery, LogStore, LogStoreOptions } from './log-store-types';
export { DB_FILE } from './log-store-file';
export { crashKey, crashLine } from './log-crashes';

export const DEFAULT_PROFILE = 'default';
const DEFAULTS = { segmentBytes: 2 * 1024 * 1024, segmentsPerDevice: 4, totalBytes: 512 * 1024 * 1024, flushMs: 250, legacyProfile: DEFAULT_PROFILE, memoryLimit: '128MB' };
/** Batches handed to the database thread and not yet stored, before more wait to join a larger one. */
const MAX_IN_FLIGHT = 2;
/** Lines per batch handed to the database thread. */
const MAX_BATCH = 10_000;
/** Beyond this many distinct logger names, a search runs its pattern over names in the database too. */
const MAX_NAMES = 2_000;

const deviceKey = (profile: string, prefix: string) => `${profile}\0${prefix}`;

export async function openLogStore(o: LogStoreOptions): Promise<LogStore> {
  const cfg = { ...DEFAULTS, ...o };
  const warn = (m: string) => console.warn(`log store: ${m}`);
  // Lines handed to the database thread but not confirmed stored yet, per append: queries
  // answer for them from here, so a page never waits for a commit.
  const inFlight: { seq: number; recs: Tail[] }[] = [];
  const { db, memoryOnly } = await openLogFile(cfg.dir, {
    memoryLimit: cfg.memoryLimit,
    setup: SCHEMA,
    warn,
    onStored(seq: number) {
      while (inFlight.length && inFlight[0]!.seq <= seq) inFlight.shift();
    },
  });

  /**
   * Each device's number in the database (`dev`), kept while the process runs even when its
   * lines are gone, so lines of one device never carry two numbers; at open, from the lines.
   */
  const devs = new Map<string, number>();
  let nextDev = 0;
  const budget = createLogBudget({ db, segmentBytes: cfg.segmentBytes, segmentsPerDevice: cfg.segmentsPerDevice, totalBytes: cfg.totalBytes, devOf, warn });
  const crashKeys = new Map<string, Set<string>>();
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
    budget.add(String(r.profile), String(r.prefix), Number(r.bytes), -1);
  }
  for (const r of blockRows!) budget.addBlock(Number(r.block), Number(r.bytes));
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

  function row(p: string, r: LogRecord): LineRow {
    const crash = r.crash ? JSON.stringify(r.crash) : null;
    // Characters, not UTF-8 bytes: cheap to count on the host's thread, and what the budget is
    // for (a bound on what is kept) does not need more.
    const bytes = 40 + r.prefix.length + r.time.length + r.name.length + r.text.length + (crash?.length ?? 0);
    budget.add(p, r.prefix, bytes, r.id);
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
    budget.check();
  }

  function scopeOf(q: { prefix?: string; since?: number; until?: number }): Scope {
    const dev = q.prefix === undefined ? undefined : devs.get(deviceKey(profile, q.prefix));
    return { profile, prefix: q.prefix, dev, since: q.since, until: q.until };
  }

  const { query, each } = createLogQueries({
    db,
    tailStart: () => inFlight[0]?.recs[0]?.rec.id ?? queuedRecs[0]?.rec.id ?? nextId,
    tail: () => [...inFlight.map((b) => b.recs), queuedRecs.slice()],
    nextId: () => nextId,
    floorId: () => budget.floorId(nextId),
    names: () => names,
    scope: scopeOf,
    sendAll: () => send(),
  });

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
        await budget.drop(`SELECT profile, prefix, id, bytes FROM lines WHERE ${devSql([devOf(p, d.prefix)])} AND id <= ${sqlInt(Math.max(d.lastId, 0))}`, [
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
          await budget.idle();
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
      return countCrashes(db, p);
    },
    async crashesPerDay(p, days, opt = {}) {
      send();
      return countCrashesPerDay(db, p ?? profile, days, opt);
    },
    async forgetDevice(prefix) {
      const p = profile;
      send();
      const dev = devs.get(deviceKey(p, prefix));
      await budget.drop(`SELECT profile, prefix, id, bytes FROM lines WHERE ${devSql(dev === undefined ? [] : [dev])}`, [`DELETE FROM crashes WHERE ${devicesSql(p, [prefix])}`]);
      crashKeys.delete(deviceKey(p, prefix));
      budget.forget(p, prefix);
    },
    async flush() {
      send();
      await budget.idle();
      await db.write([]);
    },
    usage: () => budget.usage(profile),
    imported,
    async close() {
      if (closed) return;
      stopImport = true;
      await imported;
      send();
      closed = true;
      await budget.idle();
      await db.close();
    },
  };
}
