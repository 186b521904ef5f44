// The log database's own thread: DuckDB runs here, so appending 20,000 lines/s, evicting old
// ones and checkpointing never take the host's event loop. The main thread (log-db.ts) sends
// batches of lines as one string of all their texts with their lengths and numbers beside it in
// transferred buffers (no per-field cloning or JSON parsing), and SQL it has built; this side
// only executes. Appends go through one writer connection in order and are
// confirmed one by one (`stored`), so the main thread can answer for lines still on their way
// from memory; reads run on their own connections without waiting for the writer (a commit,
// a checkpoint or an eviction takes a while under load), unless they ask to (`synced`).
//
// `logDbWorker` is started from its source text (`Function.prototype.toString`), so the same
// code runs unbundled under tsx, in vitest and in the Electron main bundle without a separate
// worker entry: it must not use anything from outside its own body (types excepted).
import type * as Duck from '@duckdb/node-api';
import type { MessagePort } from 'node:worker_threads';

/** Columns of a line as log-db.ts sends them; crash fields are null on ordinary lines. */
export type LineRow = [
  id: number,
  profile: string,
  prefix: string,
  received: number,
  level: string,
  time: string,
  name: string,
  text: string,
  bytes: number,
  crash: string | null,
  crashKey: string | null,
  crashAt: number | null,
  crashReason: string | null,
  dev: number,
];

export type ToWorker =
  | AppendMessage
  | { t: 'call'; id: number; kind: 'read' | 'synced-read' | 'write'; statements: string[] }
  | { t: 'close'; id: number };

/**
 * A batch of lines, columns flattened: per line the numbers id, received, bytes, crashAt, dev (5 in
 * `nums`) and the strings profile, prefix, level, time, name, text, crash, crashKey, crashReason
 * (their lengths in `lens`, -1 for null, and their characters one after the other in `text`).
 */
export interface AppendMessage {
  t: 'append';
  seq: number;
  count: number;
  nums: ArrayBuffer;
  lens: ArrayBuffer;
  text: string;
}

export type FromWorker =
  | { t: 'ready' }
  | { t: 'failed'; error: string }
  | { t: 'warn'; message: string }
  /** Appends up to `seq` are done (written, or reported lost with a warning). */
  | { t: 'stored'; seq: number }
  | { t: 'reply'; id: number; results?: Record<string, unknown>[][]; error?: string };

export interface LogDbWorkerData {
  /** Resolved path of @duckdb/node-api (the worker's `require` has no module of its own to resolve from). */
  duck: string;
  file: string;
  /** DuckDB settings; never anything that loads an extension. */
  settings: Record<string, string>;
  /** Run once at open (schema). */
  setup: string[];
}

export function logDbWorker(duck: typeof Duck, port: MessagePort, data: LogDbWorkerData): void {
  const READERS = 2;
  /** DuckDB's vector size: one data chunk holds at most this many rows. */
  const CHUNK_ROWS = 2048;
  let instance: Duck.DuckDBInstance;
  let writer: Duck.DuckDBConnection;
  const readers: { conn: Duck.DuckDBConnection; tail: Promise<unknown> }[] = [];
  let nextReader = 0;
  let writes: Promise<unknown> = Promise.resolve();
  /** The last append sent: a synced read waits for it (and what is before it), nothing later. */
  let appended: Promise<unknown> = Promise.resolve();
  const send = (m: FromWorker) => port.postMessage(m);
  const message = (e: unknown) => (e instanceof Error ? e.message : String(e));

  /** The columns of `lines` in table order: LineRow's first ten, then its `dev`. */
  const lineTypes = [duck.BIGINT, duck.VARCHAR, duck.VARCHAR, duck.DOUBLE, duck.VARCHAR, duck.VARCHAR, duck.VARCHAR, duck.VARCHAR, duck.INTEGER, duck.VARCHAR, duck.INTEGER];

  /** Lets a read that arrived meanwhile start: this thread's JavaScript is shared by both. */
  const yieldToReads = () => new Promise<void>((resolve) => setImmediate(resolve));

  /**
   * One transaction per batch, committed with an asynchronous statement: the appender's own
   * commit is synchronous and would hold this thread (and every read waiting to start) for
   * the whole write, or for a checkpoint when the write-ahead log is due for one.
   */
  function decode(m: AppendMessage): LineRow[] {
    const nums = new Float64Array(m.nums);
    const lens = new Int32Array(m.lens);
    let at = 0;
    const str = (k: number): string | null => {
      const len = lens[k]!;
      if (len < 0) return null;
      at += len;
      return m.text.slice(at - len, at);
    };
    const rows = new Array<LineRow>(m.count);
    for (let i = 0; i < m.count; i++) {
      const n = i * 5;
      const k = i * 9;
      const [profile, prefix, level, time, name, text, crash, crashKey, crashReason] = [str(k), str(k + 1), str(k + 2), str(k + 3), str(k + 4), str(k + 5), str(k + 6), str(k + 7), str(k + 8)];
      rows[i] = [nums[n]!, profile!, prefix!, nums[n + 1]!, level!, time!, name!, text!, nums[n + 2]!, crash, crashKey, crashKey === null ? null : nums[n + 3]!, crashReason, nums[n + 4]!];
    }
    return rows;
  }

  async function append(m: AppendMessage) {
    const rows = decode(m);
    await writer.run('BEGIN TRANSACTION');
    try {
      const lines = await writer.createAppender('lines');
      const crashes: LineRow[] = [];
      try {
        for (let at = 0; at < rows.length; at += CHUNK_ROWS) {
          const slice = rows.slice(at, at + CHUNK_ROWS);
          const columns: Duck.DuckDBValue[][] = lineTypes.map(() => new Array<Duck.DuckDBValue>(slice.length));
          slice.forEach((r, i) => {
            columns[0]![i] = BigInt(r[0]);
            for (let c = 1; c < 10; c++) columns[c]![i] = r[c]!;
            columns[10]![i] = r[13];
            if (r[10] !== null) crashes.push(r);
          });
          const chunk = duck.DuckDBDataChunk.create(lineTypes, slice.length);
          chunk.setColumns(columns);
          lines.appendDataChunk(chunk);
          await yieldToReads();
        }
        lines.flushSync();
      } finally {
        lines.closeSync();
      }
      if (crashes.length) {
        const appender = await writer.createAppender('crashes');
        try {
          for (const r of crashes) {
            appender.appendVarchar(r[1]);
            appender.appendVarchar(r[2]);
            appender.appendVarchar(r[10]!);
            appender.appendDouble(r[11]!);
            appender.appendBigInt(BigInt(r[0]));
            appender.appendVarchar(r[12]!);
            appender.endRow();
          }
          appender.flushSync();
        } finally {
          appender.closeSync();
        }
      }
      await writer.run('COMMIT');
    } catch (e) {
      await writer.run('ROLLBACK').catch(() => {});
      throw e;
    }
  }

  /** Rows as plain objects; BIGINT columns come back as numbers (ids stay below 2^53). */
  async function run(conn: Duck.DuckDBConnection, sql: string): Promise<Record<string, unknown>[]> {
    const reader = await conn.runAndReadAll(sql);
    const rows = reader.getRowObjectsJS() as Record<string, unknown>[];
    for (const row of rows) for (const k in row) if (typeof row[k] === 'bigint') row[k] = Number(row[k]);
    return rows;
  }

  async function runAll(conn: Duck.DuckDBConnection, statements: string[], transaction: boolean) {
    const results: Record<string, unknown>[][] = [];
    if (!transaction) {
      for (const s of statements) results.push(await run(conn, s));
      return results;
    }
    await conn.run('BEGIN TRANSACTION');
    try {
      for (const s of statements) results.push(await run(conn, s));
      await conn.run('COMMIT');
    } catch (e) {
      await conn.run('ROLLBACK').catch(() => {});
      throw e;
    }
    return results;
  }

  function onMessage(m: ToWorker) {
    if (m.t === 'append') {
      writes = writes
        .then(() => append(m))
        .catch((e: unknown) => send({ t: 'warn', message: `could not store lines: ${message(e)}` }))
        .then(() => send({ t: 'stored', seq: m.seq }));
      appended = writes;
    } else if (m.t === 'call') {
      let done: Promise<Record<string, unknown>[][]>;
      if (m.kind === 'write') {
        done = writes.then(() => runAll(writer, m.statements, m.statements.length > 1));
        writes = done.catch(() => {});
      } else {
        const r = readers[nextReader++ % readers.length]!;
        const after = Promise.all([m.kind === 'synced-read' ? appended : undefined, r.tail]);
        done = after.then(() => runAll(r.conn, m.statements, false));
        r.tail = done.catch(() => {});
      }
      done.then(
        (results) => send({ t: 'reply', id: m.id, results }),
        (e: unknown) => send({ t: 'reply', id: m.id, error: message(e) }),
      );
    } else {
      const id = m.id;
      void Promise.all([writes, ...readers.map((r) => r.tail)])
        .then(async () => {
          // A checkpoint folds the write-ahead log into the file, so the next start replays nothing.
          await writer.run('CHECKPOINT').catch(() => {});
          for (const r of readers) r.conn.closeSync();
          writer.closeSync();
          instance.closeSync();
        })
        .then(
          () => send({ t: 'reply', id, results: [] }),
          (e: unknown) => send({ t: 'reply', id, error: message(e) }),
        );
    }
  }

  void (async () => {
    try {
      instance = await duck.DuckDBInstance.create(data.file, data.settings);
      writer = await instance.connect();
      for (const s of data.setup) await writer.run(s);
      for (let i = 0; i < READERS; i++) readers.push({ conn: await instance.connect(), tail: Promise.resolve() });
    } catch (e) {
      send({ t: 'failed', error: message(e) });
      return;
    }
    port.on('message', onMessage);
    send({ t: 'ready' });
  })();
}
