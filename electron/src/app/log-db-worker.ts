// The log database's own thread: DuckDB runs here, so appending 20,000 lines/s, evicting old
// ones and checkpointing never take the host's event loop. The main thread (log-db.ts) sends
// batches of lines as one JSON string (one copy, no per-field cloning) and SQL it has built;
// this side only executes. Appends go through one writer connection in order and are
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
];

export type ToWorker =
  | { t: 'append'; seq: number; rows: string }
  | { t: 'call'; id: number; kind: 'read' | 'synced-read' | 'write'; statements: string[] }
  | { t: 'close'; id: number };

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

  const lineTypes = [duck.BIGINT, duck.VARCHAR, duck.VARCHAR, duck.DOUBLE, duck.VARCHAR, duck.VARCHAR, duck.VARCHAR, duck.VARCHAR, duck.INTEGER, duck.VARCHAR];
  const crashTypes = [duck.VARCHAR, duck.VARCHAR, duck.VARCHAR, duck.DOUBLE, duck.BIGINT, duck.VARCHAR];

  async function appendChunks(table: string, types: Duck.DuckDBType[], columns: Duck.DuckDBValue[][]) {
    const n = columns[0]!.length;
    if (n === 0) return;
    const appender = await writer.createAppender(table);
    try {
      for (let at = 0; at < n; at += CHUNK_ROWS) {
        const end = Math.min(n, at + CHUNK_ROWS);
        const chunk = duck.DuckDBDataChunk.create(types, end - at);
        chunk.setColumns(columns.map((c) => c.slice(at, end)));
        appender.appendDataChunk(chunk);
      }
      appender.flushSync();
    } finally {
      appender.closeSync();
    }
  }

  async function append(json: string) {
    const rows = JSON.parse(json) as LineRow[];
    const lines: Duck.DuckDBValue[][] = lineTypes.map(() => []);
    const crashes: Duck.DuckDBValue[][] = crashTypes.map(() => []);
    for (const r of rows) {
      for (let c = 0; c < 10; c++) lines[c]!.push(c === 0 ? BigInt(r[0]) : r[c]!);
      if (r[10] !== null) {
        const values = [r[1], r[2], r[10], r[11], BigInt(r[0]), r[12]];
        values.forEach((v, c) => crashes[c]!.push(v));
      }
    }
    await appendChunks('lines', lineTypes, lines);
    await appendChunks('crashes', crashTypes, crashes);
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
        .then(() => append(m.rows))
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
