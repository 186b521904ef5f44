// The transfer queue: every upload, download and OTA stream runs here in
// the host; the renderer only sees TransferInfo snapshots on the `transfers` event stream (the
// event hub keeps the latest per id per batch, so progress costs one row per 50 ms) and asks
// for cancel, retry and dismiss.
//
// Scheduling: one transfer per device at a time (a board handles one stream at a time, and an
// original board shares its single command loop with everything else), a few devices at once.
// A transfer's input is kept until it succeeds or is dismissed, which is what makes retry work.
import { createHash, randomBytes } from 'node:crypto';
import type { TransferInfo, TransferKind } from '../../../protocol/src';
import { EngineError } from '../engine/errors';
import type { Engine, Progress } from '../engine/types';
import { toBridgeError } from './errors';
import { HostError } from './errors';
import { downloadFolderZip } from './transfer-zip';
import { uploadFile } from './transfer-upload';

/** Progress must span this long before a rate (and so an ETA) is shown. */
const MIN_RATE_SPAN_MS = 250;

/** Devices served at once; more would only split the same broker link further. */
const MAX_RUNNING = 3;
/** Finished in-memory downloads held for the page to read (web mode), all together. */
export const MAX_HELD_BYTES = 256 * 1024 * 1024;
/** Finished transfers kept in the list; the oldest finished ones go first. */
const MAX_FINISHED = 200;

export type TransferSpec =
  | { kind: 'upload'; prefix: string; path: string; data: Uint8Array }
  | { kind: 'download'; prefix: string; path: string; folder: boolean; dest: { to: 'memory' } | { to: 'file'; file: string } }
  | { kind: 'ota'; prefix: string; name: string; image: Uint8Array; sha256: string };

/** Where the host writes a finished desktop download; injected so the queue stays plain Node. */
export type WriteFile = (file: string, data: Uint8Array) => Promise<void>;

interface Record {
  info: TransferInfo;
  spec: TransferSpec;
  ac?: AbortController;
  /** A finished in-memory download. */
  held?: Uint8Array;
}

export interface TransferQueue {
  enqueue(spec: TransferSpec): string;
  list(): TransferInfo[];
  cancel(id: string): void;
  retry(id: string): string;
  dismiss(id: string): void;
  /** A chunk of a finished in-memory download. */
  read(id: string, offset: number, length: number): { data: Uint8Array; total: number };
  /** Settles when the transfer has ended (tests, and the CLI some day). */
  settled(id: string): Promise<TransferInfo>;
  /** Cancels everything (shutdown). */
  close(): void;
}

export interface TransferQueueDeps {
  engine: Engine;
  publish(changed: TransferInfo[], removed: string[]): void;
  writeFile: WriteFile;
}

const nameOf = (p: string) => p.split('/').filter(Boolean).pop() ?? 'root';

export function createTransferQueue(deps: TransferQueueDeps): TransferQueue {
  const records = new Map<string, Record>();
  const waiters = new Map<string, ((t: TransferInfo) => void)[]>();
  let held = 0;

  const snapshot = (r: Record): TransferInfo => ({ ...r.info, error: r.info.error ? { ...r.info.error } : undefined });
  const changed = (r: Record) => deps.publish([snapshot(r)], []);
  const ended = (s: TransferInfo['state']) => s === 'done' || s === 'failed' || s === 'cancelled';

  function pathOf(spec: TransferSpec): string {
    return spec.kind === 'ota' ? spec.name : spec.path;
  }

  function enqueue(spec: TransferSpec): string {
    const id = randomBytes(9).toString('base64url');
    const total = spec.kind === 'upload' ? spec.data.length : spec.kind === 'ota' ? spec.image.length : 0;
    const info: TransferInfo = {
      id,
      kind: spec.kind satisfies TransferKind,
      prefix: spec.prefix,
      path: pathOf(spec),
      folder: spec.kind === 'download' && spec.folder,
      state: 'queued',
      bytesDone: 0,
      bytesTotal: total,
      rate: 0,
      created: Date.now(),
      retryable: false,
    };
    const r: Record = { info, spec };
    records.set(id, r);
    trim();
    changed(r);
    pump();
    return id;
  }

  /** Starts queued transfers, oldest first, one per device, MAX_RUNNING overall. */
  function pump() {
    const busy = new Set<string>();
    let running = 0;
    for (const r of records.values()) {
      if (r.info.state === 'running') {
        busy.add(r.info.prefix);
        running++;
      }
    }
    for (const r of records.values()) {
      if (running >= MAX_RUNNING) return;
      if (r.info.state !== 'queued' || busy.has(r.info.prefix)) continue;
      busy.add(r.info.prefix);
      running++;
      void run(r);
    }
  }

  async function run(r: Record) {
    const ac = new AbortController();
    r.ac = ac;
    r.info.state = 'running';
    r.info.started = Date.now();
    changed(r);
    // Rate and ETA count from the first progress report, not from the start: creating folders,
    // opening the put or erasing a flash slot move no bytes, and counting them made a transfer
    // that ends in 0.4 s say "12s left". No figure at all until there is enough to measure.
    let first: { t: number; bytes: number } | undefined;
    const onProgress = (p: Progress, base = 0) => {
      r.info.bytesDone = base + p.bytesDone;
      if (p.bytesTotal > 0 && r.spec.kind !== 'download') r.info.bytesTotal = Math.max(r.info.bytesTotal, p.bytesTotal);
      const t = Date.now();
      first ??= { t, bytes: r.info.bytesDone };
      const span = t - first.t;
      const moved = r.info.bytesDone - first.bytes;
      r.info.rate = span >= MIN_RATE_SPAN_MS && moved > 0 ? (moved * 1000) / span : 0;
      r.info.etaMs = r.info.rate > 0 && r.info.bytesTotal >= r.info.bytesDone ? ((r.info.bytesTotal - r.info.bytesDone) / r.info.rate) * 1000 : undefined;
      changed(r);
    };
    try {
      r.info.sha256 = await execute(r, ac.signal, onProgress);
      r.info.state = 'done';
      r.info.etaMs = 0;
      r.info.bytesDone = Math.max(r.info.bytesDone, r.info.bytesTotal);
      r.info.retryable = false;
      // The input is no longer needed: a finished transfer is not retried.
      if (r.spec.kind === 'upload') r.spec = { ...r.spec, data: new Uint8Array(0) };
      if (r.spec.kind === 'ota') r.spec = { ...r.spec, image: new Uint8Array(0) };
    } catch (e) {
      const cancelled = ac.signal.aborted || (e instanceof EngineError && e.code === 'cancelled');
      r.info.state = cancelled ? 'cancelled' : 'failed';
      const err = cancelled ? { code: 'cancelled', message: 'cancelled' } : toBridgeError(e);
      r.info.error = { code: err.code, message: err.message };
      r.info.retryable = true;
      r.info.etaMs = undefined;
    } finally {
      r.ac = undefined;
      r.info.ended = Date.now();
      changed(r);
      for (const w of waiters.get(r.info.id) ?? []) w(snapshot(r));
      waiters.delete(r.info.id);
      pump();
    }
  }

  /** Runs one transfer; resolves with the SHA-256 of what was sent or received. */
  async function execute(r: Record, signal: AbortSignal, onProgress: (p: Progress, base?: number) => void): Promise<string | undefined> {
    const spec = r.spec;
    switch (spec.kind) {
      case 'upload':
        return uploadFile(deps.engine, spec.prefix, spec.path, spec.data, { signal, onProgress: (p) => onProgress(p) });
      case 'ota': {
        const res = await deps.engine.ota(spec.prefix, spec.image, { signal, onProgress: (p) => onProgress(p), expectSha256: spec.sha256 });
        return res.sha256;
      }
      case 'download': {
        let data: Uint8Array;
        let name = nameOf(spec.path);
        let mime = 'application/octet-stream';
        if (spec.folder) {
          data = await downloadFolderZip(deps.engine, spec.prefix, spec.path, {
            signal,
            onTotal: (n) => {
              r.info.bytesTotal = n;
              changed(r);
            },
            onProgress: (done) => onProgress({ bytesDone: done, bytesTotal: r.info.bytesTotal, rate: 0 }),
          });
          name = `${name}.zip`;
          mime = 'application/zip';
        } else {
          const st = await deps.engine.stat(spec.prefix, spec.path, { signal });
          if (st.type === 'dir') throw new HostError('invalid-argument', `${spec.path} is a folder`);
          if (st.size !== undefined) r.info.bytesTotal = st.size;
          data = await deps.engine.get(spec.prefix, spec.path, { signal, onProgress: (p) => onProgress(p) });
          r.info.bytesTotal = data.length;
        }
        const sha = createHash('sha256').update(data).digest('hex');
        if (spec.dest.to === 'file') {
          await deps.writeFile(spec.dest.file, data);
          r.info.savedTo = spec.dest.file;
        } else {
          if (held + data.length > MAX_HELD_BYTES) {
            throw new HostError('invalid-argument', `holding ${data.length} more bytes for the page would pass ${MAX_HELD_BYTES}; dismiss finished downloads first`);
          }
          held += data.length;
          r.held = data;
          r.info.readable = { size: data.length, name, mime };
        }
        return sha;
      }
    }
  }

  function get(id: string): Record {
    const r = records.get(id);
    if (!r) throw new HostError('not-found', `no transfer ${id}`);
    return r;
  }

  function remove(r: Record) {
    if (r.held) held -= r.held.length;
    r.held = undefined;
    records.delete(r.info.id);
  }

  /** Keeps the list bounded: the oldest finished transfers go first. */
  function trim() {
    const finished = [...records.values()].filter((r) => ended(r.info.state));
    const removed: string[] = [];
    for (const r of finished.slice(0, Math.max(0, finished.length - MAX_FINISHED))) {
      remove(r);
      removed.push(r.info.id);
    }
    if (removed.length) deps.publish([], removed);
  }

  return {
    enqueue,
    list: () => [...records.values()].map(snapshot),
    cancel(id) {
      const r = get(id);
      if (r.info.state === 'queued') {
        r.info.state = 'cancelled';
        r.info.retryable = true;
        r.info.ended = Date.now();
        r.info.error = { code: 'cancelled', message: 'cancelled before it started' };
        changed(r);
        for (const w of waiters.get(id) ?? []) w(snapshot(r));
        waiters.delete(id);
      } else if (r.info.state === 'running') r.ac?.abort(new EngineError('cancelled', 'cancelled'));
    },
    retry(id) {
      const r = get(id);
      if (!r.info.retryable) throw new HostError('invalid-argument', `transfer ${id} is ${r.info.state}; only failed or cancelled transfers can be retried`);
      remove(r);
      deps.publish([], [id]);
      return enqueue(r.spec);
    },
    dismiss(id) {
      const r = get(id);
      if (!ended(r.info.state)) throw new HostError('invalid-argument', `transfer ${id} is still ${r.info.state}; cancel it first`);
      remove(r);
      deps.publish([], [id]);
    },
    read(id, offset, length) {
      const r = get(id);
      if (!r.held) throw new HostError('not-found', `transfer ${id} holds no downloaded data`);
      return { data: r.held.subarray(offset, offset + length), total: r.held.length };
    },
    settled(id) {
      const r = get(id);
      if (ended(r.info.state)) return Promise.resolve(snapshot(r));
      return new Promise((resolve) => waiters.set(id, [...(waiters.get(id) ?? []), resolve]));
    },
    close() {
      for (const r of records.values()) {
        if (r.info.state === 'queued') r.info.state = 'cancelled';
        r.ac?.abort(new EngineError('cancelled', 'the app is closing'));
      }
    },
  };
}
