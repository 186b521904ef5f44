// The log store's database: one DuckDB file, run on a worker thread (log-db-worker.ts) so the
// host's event loop only pays for handing over a batch. DuckDB comes from @duckdb/node-api,
// an N-API module whose binary ships inside the npm package: plain Node (web mode, CLI,
// tests) and Electron's main process load the same file, with no rebuild per runtime.
//
// Only what the core ships is used: extensions would be downloaded from the internet on first
// use, so autoloading and installing them are switched off, as is file access from SQL (the
// database reads nothing but its own file).
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import { logDbWorker, type AppendMessage, type FromWorker, type LineRow, type LogDbWorkerData, type ToWorker } from './log-db-worker';

export type { LineRow } from './log-db-worker';

export interface LogDb {
  /** Queues lines for the writer; `onStored(seq)` says when they are in (seqs grow by one per call). */
  append(rows: LineRow[]): number;
  /** Statements run in one transaction on the writer, after every append sent before. */
  write(statements: string[]): Promise<Record<string, unknown>[][]>;
  /** Statements run on a reader at once: lines appended but not yet stored are not seen. */
  read(statements: string[]): Promise<Record<string, unknown>[][]>;
  /** Like read, after every append sent before (not after earlier writes). */
  syncedRead(statements: string[]): Promise<Record<string, unknown>[][]>;
  close(): Promise<void>;
}

export interface LogDbOptions {
  file: string;
  /** DuckDB's memory limit, e.g. '256MB'. */
  memoryLimit: string;
  setup: string[];
  /** Problems that cost lines (a failed append) are reported here, never thrown at the engine. */
  warn(message: string): void;
  onStored(seq: number): void;
}

export async function openLogDb(o: LogDbOptions): Promise<LogDb> {
  const data: LogDbWorkerData = {
    duck: createRequire(import.meta.url).resolve('@duckdb/node-api'),
    file: o.file,
    settings: {
      memory_limit: o.memoryLimit,
      threads: '2',
      autoinstall_known_extensions: 'false',
      autoload_known_extensions: 'false',
      // Also keeps spilling where DuckDB puts it by default: <file>.tmp, inside the private folder.
      enable_external_access: 'false',
    },
    setup: o.setup,
  };
  // Transpilers may wrap functions in a naming helper (tsx's `__name`); inside the worker it
  // does not exist, so it is defined as a no-op first.
  const source = `var __name = (f) => f;
const { parentPort, workerData } = require('node:worker_threads');
(${logDbWorker.toString()})(require(workerData.duck), parentPort, workerData);`;
  const worker = new Worker(source, { eval: true, workerData: data });
  const pending = new Map<number, { resolve(r: Record<string, unknown>[][]): void; reject(e: Error): void }>();
  let nextCall = 0;
  let nextSeq = 0;
  let stopped: string | undefined;

  const ready = new Promise<void>((resolve, reject) => {
    worker.on('message', (m: FromWorker) => {
      if (m.t === 'ready') resolve();
      else if (m.t === 'failed') reject(new Error(`log database: ${m.error}`));
      else if (m.t === 'warn') o.warn(m.message);
      else if (m.t === 'stored') o.onStored(m.seq);
      else {
        const p = pending.get(m.id);
        pending.delete(m.id);
        if (m.error !== undefined) p?.reject(new Error(m.error));
        else p?.resolve(m.results ?? []);
      }
    });
    const stop = (why: string) => {
      stopped = why;
      // Appends in flight will never be confirmed: they are lost, and the store stops waiting for them.
      if (nextSeq > 0) o.onStored(nextSeq - 1);
      reject(new Error(`log database: ${why}`));
      for (const p of pending.values()) p.reject(new Error(`log database stopped: ${why}`));
      pending.clear();
    };
    worker.on('error', (e) => stop(e.message));
    worker.on('exit', (code) => stop(`its thread exited (${code})`));
  });
  try {
    await ready;
  } catch (e) {
    await worker.terminate();
    throw e;
  }

  const post = (m: ToWorker) => worker.postMessage(m);
  function call(m: ToWorker & { id: number }): Promise<Record<string, unknown>[][]> {
    if (stopped) return Promise.reject(new Error(`log database stopped: ${stopped}`));
    return new Promise((resolve, reject) => {
      pending.set(m.id, { resolve, reject });
      post(m);
    });
  }

  return {
    append(rows) {
      const seq = nextSeq++;
      if (stopped) {
        o.warn(`${rows.length} lines not stored: the database stopped (${stopped})`);
        queueMicrotask(() => o.onStored(seq));
      } else {
        const m = encode(seq, rows);
        worker.postMessage(m, [m.nums, m.lens]);
      }
      return seq;
    },
    write: (statements) => call({ t: 'call', id: nextCall++, kind: 'write', statements }),
    read: (statements) => call({ t: 'call', id: nextCall++, kind: 'read', statements }),
    syncedRead: (statements) => call({ t: 'call', id: nextCall++, kind: 'synced-read', statements }),
    async close() {
      if (!stopped) await call({ t: 'close', id: nextCall++ }).catch((e: unknown) => o.warn(`close: ${e instanceof Error ? e.message : e}`));
      await worker.terminate();
    },
  };
}

/** A batch as the worker reads it (AppendMessage): one string and two buffers, whatever its size. */
function encode(seq: number, rows: LineRow[]): AppendMessage {
  const nums = new Float64Array(rows.length * 5);
  const lens = new Int32Array(rows.length * 9);
  const parts: string[] = [];
  const str = (k: number, v: string | null) => {
    lens[k] = v === null ? -1 : v.length;
    if (v !== null) parts.push(v);
  };
  rows.forEach((r, i) => {
    const n = i * 5;
    const k = i * 9;
    nums[n] = r[0];
    nums[n + 1] = r[3];
    nums[n + 2] = r[8];
    nums[n + 3] = r[11] ?? 0;
    nums[n + 4] = r[13];
    str(k, r[1]);
    str(k + 1, r[2]);
    str(k + 2, r[4]);
    str(k + 3, r[5]);
    str(k + 4, r[6]);
    str(k + 5, r[7]);
    str(k + 6, r[9]);
    str(k + 7, r[10]);
    str(k + 8, r[12]);
  });
  return { t: 'append', seq, count: rows.length, nums: nums.buffer, lens: lens.buffer, text: parts.join('') };
}

/** A SQL string literal. NUL cannot appear inside one, so it is spliced in as chr(0). */
export function sqlString(s: string): string {
  return s
    .split('\0')
    .map((p) => `'${p.replaceAll("'", "''")}'`)
    .join(' || chr(0) || ');
}

/** An integer for SQL, refusing anything else (ids and times are inlined, never strings). */
export function sqlInt(n: number): string {
  if (!Number.isSafeInteger(n)) throw new Error(`not an integer: ${n}`);
  return String(n);
}
