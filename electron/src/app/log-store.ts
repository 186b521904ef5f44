// The app host's on-disk log store: every line from every device
// is kept, whether or not a view is open, and survives an app restart.
//
// Layout: <dir>/<base64url(prefix)>/<firstId>.jsonl, one JSON record per line
// (`{"i":id,"r":received,"l":level,"t":deviceTime,"n":name,"x":text}`, crash records add `"c"`).
// Ids grow store-wide with every record, so they order the whole fleet by arrival and let a
// fleet view interleave devices without comparing clocks.
//
// Budgets: each device keeps at most `segmentsPerDevice` segments of `segmentBytes` (a chatty
// device cannot evict a quiet one's history); above `totalBytes` the oldest closed segment of
// the whole store goes. Writes are batched: `append` only queues (ids are assigned at once), a
// timer writes each device's queued lines with one appendFile per flush, never one per line.
//
// Private: other users of the machine must not read what devices log, so folders are created
// 0700 and files 0600 from their first write, whatever the umask, and a store left readable by
// an older version is tightened when it opens.
import { appendFile, chmod, mkdir, open, readdir, readFile, stat, unlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { LEVELS, type CrashRecord, type Level } from '../../../protocol/src';
import type { LogFilter, LogRecord } from '../../../protocol/src/bridge-logs';
import { compileLogFilter } from '../../../protocol/src/log-filter';
import { IdHeap } from './id-heap';
import { ForwardLineReader } from './log-forward-reader';
import { ReverseLineReader, type StoredLine } from './log-reverse-reader';

export interface LogStoreOptions {
  dir: string;
  /** Size at which a device's segment is closed and a new one started (default 2 MiB). */
  segmentBytes?: number;
  /** Segments kept per device, the current one included (default 4: 8 MiB per device). */
  segmentsPerDevice?: number;
  /** Cap on the whole store (default 512 MiB). */
  totalBytes?: number;
  /** How long lines wait before they are written (default 250 ms). */
  flushMs?: number;
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
  /** Stops after examining this many records, so a rare search cannot stall the host. */
  scanLimit?: number;
}

export interface LogStore {
  /** Queues lines for writing and returns them with their ids (same order). */
  append(lines: IncomingLine[]): LogRecord[];
  /** Newest matching records before `before`, oldest first, and where to continue. */
  query(q: LogQuery): Promise<{ records: LogRecord[]; cursor: number | null }>;
  /** Every matching record, oldest first (export); `fn` may return a promise to apply backpressure. */
  each(q: { prefix?: string; filter: LogFilter }, fn: (r: LogRecord) => void | Promise<void>): Promise<void>;
  /**
   * Notes a crash record as stored; false if it was already (devices re-publish their retained
   * crash records on every connection, and the store must keep each once, across restarts).
   */
  rememberCrash(prefix: string, key: string): boolean;
  /** Writes everything queued. */
  flush(): Promise<void>;
  /** Bytes on disk per device (tests, diagnostics). */
  usage(): Map<string, number>;
  close(): Promise<void>;
}

interface Segment {
  file: string;
  firstId: number;
  bytes: number;
}

interface DeviceLog {
  prefix: string;
  dir: string;
  /** Oldest first; the last is the one being written. */
  segments: Segment[];
  /** Serialized records waiting for the next flush, with their ids. */
  queued: { id: number; json: string }[];
  /** The last segment may not be appended to (torn last line after a crash). */
  sealed: boolean;
  /** Keys of crash records already stored, newest last (persisted in crash-ids.json). */
  crashKeys: string[];
}

const CRASH_KEYS = 'crash-ids.json';
/** Owner only (a mode given at creation is cut by the umask, which can only take bits away). */
const DIR_MODE = 0o700;
const FILE_MODE = 0o600;
const MAX_CRASH_KEYS = 200;

interface Head<R> {
  prefix: string;
  reader: R;
  line: StoredLine;
}

const DEFAULTS = { segmentBytes: 2 * 1024 * 1024, segmentsPerDevice: 4, totalBytes: 512 * 1024 * 1024, flushMs: 250 };
/** About a second of parsing per query: a rare search answers in steps the renderer continues. */
const DEFAULT_SCAN_LIMIT = 200_000;

export async function openLogStore(o: LogStoreOptions): Promise<LogStore> {
  const cfg = { ...DEFAULTS, ...o };
  await mkdir(cfg.dir, { recursive: true, mode: DIR_MODE });
  await tighten(cfg.dir, DIR_MODE);
  const devices = new Map<string, DeviceLog>();
  let nextId = 0;
  for (const name of await readdir(cfg.dir)) {
    const dev = await loadDevice(cfg.dir, name);
    if (!dev) continue;
    devices.set(dev.prefix, dev);
    nextId = Math.max(nextId, (await lastId(dev)) + 1);
  }

  let timer: ReturnType<typeof setTimeout> | undefined;
  let writing: Promise<void> = Promise.resolve();
  let closed = false;

  function deviceFor(prefix: string): DeviceLog {
    let d = devices.get(prefix);
    if (!d) {
      const dir = path.join(cfg.dir, Buffer.from(prefix).toString('base64url'));
      d = { prefix, dir, segments: [], queued: [], sealed: false, crashKeys: [] };
      devices.set(prefix, d);
    }
    return d;
  }

  function schedule() {
    if (closed) return;
    timer ??= setTimeout(() => {
      timer = undefined;
      void flush();
    }, cfg.flushMs);
  }

  // One flush at a time: the next waits for the previous, so writes to a segment stay in order.
  function flush(): Promise<void> {
    if (timer) clearTimeout(timer);
    timer = undefined;
    writing = writing.then(writeQueued).catch((e: unknown) => {
      console.warn('log store: write failed:', e instanceof Error ? e.message : e);
    });
    return writing;
  }

  async function writeQueued() {
    for (const d of devices.values()) {
      if (d.queued.length === 0) continue;
      const lines = d.queued;
      d.queued = [];
      await writeDevice(d, lines);
    }
    await enforceTotal();
  }

  async function writeDevice(d: DeviceLog, lines: { id: number; json: string }[]) {
    let i = 0;
    while (i < lines.length) {
      let seg = d.segments.at(-1);
      if (!seg || d.sealed || seg.bytes >= cfg.segmentBytes) {
        seg = { file: path.join(d.dir, `${lines[i]!.id}.jsonl`), firstId: lines[i]!.id, bytes: 0 };
        await mkdir(d.dir, { recursive: true, mode: DIR_MODE });
        d.segments.push(seg);
        d.sealed = false;
        while (d.segments.length > cfg.segmentsPerDevice) await removeSegment(d, 0);
      }
      // Fill the segment up to its size, always at least one line (a record larger than a
      // whole segment still gets stored, alone).
      let chunk = '';
      let bytes = 0;
      while (i < lines.length) {
        const b = Buffer.byteLength(lines[i]!.json) + 1;
        if (bytes > 0 && seg.bytes + bytes + b > cfg.segmentBytes) break;
        chunk += lines[i]!.json + '\n';
        bytes += b;
        i++;
      }
      await appendFile(seg.file, chunk, { mode: FILE_MODE });
      seg.bytes += bytes;
    }
  }

  async function removeSegment(d: DeviceLog, index: number) {
    const [seg] = d.segments.splice(index, 1);
    if (seg) await unlink(seg.file).catch(() => {});
  }

  async function enforceTotal() {
    let total = 0;
    for (const d of devices.values()) for (const s of d.segments) total += s.bytes;
    while (total > cfg.totalBytes) {
      // The oldest closed segment of any device; current segments are never evicted here.
      let victim: { d: DeviceLog; firstId: number } | undefined;
      for (const d of devices.values()) {
        const s = d.segments.length > 1 ? d.segments[0] : undefined;
        if (s && (!victim || s.firstId < victim.firstId)) victim = { d, firstId: s.firstId };
      }
      if (!victim) return;
      total -= victim.d.segments[0]!.bytes;
      await removeSegment(victim.d, 0);
    }
  }

  async function query(q: LogQuery): Promise<{ records: LogRecord[]; cursor: number | null }> {
    await flush();
    const match = compileLogFilter(q.filter);
    const before = q.before ?? Number.MAX_SAFE_INTEGER;
    const scanLimit = q.scanLimit ?? DEFAULT_SCAN_LIMIT;
    // One reverse reader per device, merged by id: always take the device whose next line is
    // the newest, so the page comes out in store-wide arrival order.
    const heads = new IdHeap<Head<ReverseLineReader>>((a, b) => a.line.id > b.line.id);
    const records: LogRecord[] = [];
    let scanned = 0;
    let lastSeen: number | null = null;
    try {
      for (const d of inScope(q.prefix)) {
        const reader = new ReverseLineReader(d.segments.map((s) => s.file));
        const line = await nextBefore(reader, before);
        if (line) heads.push({ prefix: d.prefix, reader, line });
        else await reader.close();
      }
      while (heads.size && records.length < q.limit) {
        if (scanned >= scanLimit) return { records: records.reverse(), cursor: lastSeen };
        const h = heads.pop()!;
        scanned++;
        lastSeen = h.line.id;
        const r = decodeRecord(h.prefix, h.line.json);
        if (r && match.test(r.level, r.name, r.text)) records.push(r);
        const next = await h.reader.next();
        if (next) heads.push({ ...h, line: next });
        else await h.reader.close();
      }
      return { records: records.reverse(), cursor: heads.size ? lastSeen : null };
    } finally {
      await Promise.all(heads.drain().map((h) => h.reader.close()));
    }
  }

  /** Forward merge for export: bounded memory however much is stored. */
  async function each(q: { prefix?: string; filter: LogFilter }, fn: (r: LogRecord) => void | Promise<void>) {
    await flush();
    const match = compileLogFilter(q.filter);
    // Lines that arrive during a long export are not part of it.
    const end = nextId;
    const heads = new IdHeap<Head<ForwardLineReader>>((a, b) => a.line.id < b.line.id);
    for (const d of inScope(q.prefix)) {
      const reader = new ForwardLineReader(d.segments.map((s) => s.file));
      const line = await reader.next();
      if (line) heads.push({ prefix: d.prefix, reader, line });
    }
    for (let h = heads.pop(); h && h.line.id < end; h = heads.pop()) {
      const r = decodeRecord(h.prefix, h.line.json);
      if (r && match.test(r.level, r.name, r.text)) await fn(r);
      const next = await h.reader.next();
      if (next) heads.push({ ...h, line: next });
    }
  }

  function inScope(prefix: string | undefined): DeviceLog[] {
    if (prefix === undefined) return [...devices.values()];
    const d = devices.get(prefix);
    return d ? [d] : [];
  }

  return {
    append(lines) {
      const out: LogRecord[] = [];
      if (closed) return out;
      for (const l of lines) {
        const r: LogRecord = { id: nextId++, prefix: l.prefix, received: l.received, level: l.level, time: l.time, name: l.name, text: l.text, ...(l.crash ? { crash: l.crash } : {}) };
        deviceFor(l.prefix).queued.push({ id: r.id, json: encodeRecord(r) });
        out.push(r);
      }
      if (out.length) schedule();
      return out;
    },
    query,
    rememberCrash(prefix, key) {
      const d = deviceFor(prefix);
      if (d.crashKeys.includes(key)) return false;
      d.crashKeys.push(key);
      if (d.crashKeys.length > MAX_CRASH_KEYS) d.crashKeys.splice(0, d.crashKeys.length - MAX_CRASH_KEYS);
      const keys = JSON.stringify(d.crashKeys);
      // Through the write chain, so it never races the device directory's creation.
      writing = writing
        .then(async () => {
          await mkdir(d.dir, { recursive: true, mode: DIR_MODE });
          await writeFile(path.join(d.dir, CRASH_KEYS), keys, { mode: FILE_MODE });
        })
        .catch((e: unknown) => console.warn('log store: could not save crash ids:', e instanceof Error ? e.message : e));
      return true;
    },
    each,
    flush,
    usage() {
      const m = new Map<string, number>();
      for (const d of devices.values()) m.set(d.prefix, d.segments.reduce((n, s) => n + s.bytes, 0));
      return m;
    },
    async close() {
      await flush();
      closed = true;
    },
  };
}

/** The next line strictly older than `before`. */
async function nextBefore(reader: ReverseLineReader, before: number) {
  for (let l = await reader.next(); l; l = await reader.next()) if (l.id < before) return l;
  return undefined;
}

/** `i` first: readers find a line's id with a regex on its head, without a full parse. */
function encodeRecord(r: LogRecord): string {
  return JSON.stringify({ i: r.id, r: r.received, l: r.level, t: r.time, n: r.name, x: r.text, ...(r.crash ? { c: r.crash } : {}) });
}

const LEVEL_SET = new Set<string>(LEVELS);

function decodeRecord(prefix: string, json: string): LogRecord | undefined {
  let v: unknown;
  try {
    v = JSON.parse(json);
  } catch {
    return undefined;
  }
  if (typeof v !== 'object' || v === null) return undefined;
  const o = v as Record<string, unknown>;
  if (typeof o.i !== 'number' || typeof o.r !== 'number' || typeof o.l !== 'string' || !LEVEL_SET.has(o.l)) return undefined;
  if (typeof o.t !== 'string' || typeof o.n !== 'string' || typeof o.x !== 'string') return undefined;
  const r: LogRecord = { id: o.i, prefix, received: o.r, level: o.l as Level, time: o.t, name: o.n, text: o.x };
  // Crash records were validated by the engine before they were stored; the bridge host
  // checks them again against the contract on the way out.
  if (typeof o.c === 'object' && o.c !== null) r.crash = o.c as CrashRecord;
  return r;
}

async function loadDevice(root: string, name: string): Promise<DeviceLog | undefined> {
  const dir = path.join(root, name);
  let prefix: string;
  try {
    if (!(await stat(dir)).isDirectory()) return undefined;
    prefix = Buffer.from(name, 'base64url').toString('utf8');
  } catch {
    return undefined;
  }
  if (!prefix || Buffer.from(prefix).toString('base64url') !== name) return undefined;
  await tighten(dir, DIR_MODE);
  const segments: Segment[] = [];
  for (const f of await readdir(dir)) {
    const file = path.join(dir, f);
    if (f === CRASH_KEYS) await tighten(file, FILE_MODE);
    const m = /^(\d+)\.jsonl$/.exec(f);
    if (!m) continue;
    await tighten(file, FILE_MODE);
    segments.push({ file, firstId: Number(m[1]), bytes: (await stat(file)).size });
  }
  segments.sort((a, b) => a.firstId - b.firstId);
  const crashKeys = await readCrashKeys(path.join(dir, CRASH_KEYS));
  if (segments.length === 0 && crashKeys.length === 0) return undefined;
  const last = segments.at(-1);
  return { prefix, dir, segments, queued: [], sealed: last ? !(await endsWithNewline(last)) : false, crashKeys };
}

/** Best effort: a file the user cannot chmod (another owner's) must not keep the app from starting. */
async function tighten(p: string, mode: number): Promise<void> {
  await chmod(p, mode).catch((e: unknown) => console.warn(`log store: could not make ${p} private:`, e instanceof Error ? e.message : e));
}

async function readCrashKeys(file: string): Promise<string[]> {
  try {
    const v: unknown = JSON.parse(await readFile(file, 'utf8'));
    return Array.isArray(v) ? v.filter((k): k is string => typeof k === 'string') : [];
  } catch {
    return [];
  }
}

async function endsWithNewline(s: Segment): Promise<boolean> {
  if (s.bytes === 0) return true;
  const h = await open(s.file, 'r');
  try {
    const b = Buffer.alloc(1);
    await h.read(b, 0, 1, s.bytes - 1);
    return b[0] === 0x0a;
  } finally {
    await h.close();
  }
}

/** The newest id a device has on disk (-1 if none): one reverse read of its last lines. */
async function lastId(d: DeviceLog): Promise<number> {
  const reader = new ReverseLineReader(d.segments.map((s) => s.file));
  try {
    const l = await reader.next();
    return l ? l.id : -1;
  } finally {
    await reader.close();
  }
}
