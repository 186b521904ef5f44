// Files that appear complete or not at all: data goes to a temp file in the runtime's private
// tmp directory (same filesystem as the root, so rename is atomic), is hashed while written,
// verified, fsynced, and only then renamed over the real name.
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { DeviceError } from './errors';

export interface AtomicWriter {
  readonly tempPath: string;
  write(data: Uint8Array): Promise<void>;
  /** Bytes written so far (handed to write, not necessarily on disk yet). */
  size(): number;
  /** Waits until everything written is in the temp file (e.g. before reading it back). */
  flush(): Promise<void>;
  /** Hex SHA-256 of everything written; ends the hashing, so only ask once everything is written. */
  digest(): string;
  /** fsyncs and renames over `dest`, then fsyncs the directory so the rename is durable. */
  commit(dest: string): Promise<void>;
  /** Removes the temp file; safe to call more than once and after commit. */
  discard(): Promise<void>;
}

const WRITE_BEHIND = 4 * 1024 * 1024;
/** Chunks are gathered into staging buffers of this size before they go to disk. */
const STAGE_BYTES = 512 * 1024;

export async function createAtomicWriter(tmpDir: string, tag: string): Promise<AtomicWriter> {
  await fs.mkdir(tmpDir, { recursive: true });
  const tempPath = path.join(tmpDir, `${tag.replace(/[^A-Za-z0-9_-]/g, '_')}-${randomBytes(4).toString('hex')}.part`);
  const fh = await fs.open(tempPath, 'wx', 0o644);
  const hash = createHash('sha256');
  let digest: string | undefined;
  let written = 0;
  let closed = false;
  let committed = false;
  // Write-behind through staging buffers: each chunk is copied into a staging buffer and the
  // caller moves on to receive the next one, so network and disk overlap; a full staging
  // buffer goes to disk in the background, together with any others filled meanwhile (one
  // writev). At most WRITE_BEHIND bytes wait; a write error surfaces at the next write or at
  // commit. The copy is what makes this cheap: the caller's chunk is dropped at once and dies
  // young. Holding each 64 KiB chunk until its own write had finished kept thousands of them
  // alive across collections (on a 16 MB put the device's GC threads then spent up to four
  // times as long), and a write per chunk cost a thread-pool round trip each.
  const spare: Buffer[] = [];
  let stage: Buffer | undefined;
  let used = 0;
  let pending: { buf: Buffer; len: number }[] = [];
  let writing: Promise<void> | undefined;
  let queued = 0;
  let failure: unknown;
  const writeAll = async (bufs: Uint8Array[]) => {
    while (bufs.length && !failure) {
      const { bytesWritten } = await fh.writev(bufs);
      // A short write leaves the rest for another round, from where it stopped.
      let done = bytesWritten;
      while (bufs.length && done >= bufs[0]!.length) done -= bufs.shift()!.length;
      if (done > 0) bufs[0] = bufs[0]!.subarray(done);
    }
  };
  const drain = async () => {
    // Never finishes synchronously, so `writing` is always cleared after it was set.
    await Promise.resolve();
    while (pending.length && !failure) {
      const batch = pending;
      pending = [];
      const bytes = batch.reduce((n, b) => n + b.len, 0);
      try {
        await writeAll(batch.map((b) => b.buf.subarray(0, b.len)));
      } catch (e) {
        failure ??= e;
      } finally {
        queued -= bytes;
        for (const b of batch) spare.push(b.buf);
      }
    }
    writing = undefined;
  };
  /** Hands the staging buffer, if it holds anything, to the disk. */
  const ship = () => {
    if (!stage || used === 0) return;
    pending.push({ buf: stage, len: used });
    queued += used;
    stage = undefined;
    used = 0;
    writing ??= drain();
  };
  const settled = async () => {
    while (writing) await writing;
  };
  const flush = async () => {
    ship();
    await settled();
    if (failure) throw failure;
  };
  const close = async () => {
    if (!closed) {
      closed = true;
      await fh.close();
    }
  };
  return {
    tempPath,
    async write(data) {
      if (failure) throw failure;
      if (digest !== undefined) throw new Error('write after digest');
      hash.update(data);
      written += data.length;
      for (let off = 0; off < data.length; ) {
        stage ??= spare.pop() ?? Buffer.allocUnsafeSlow(STAGE_BYTES);
        const n = Math.min(STAGE_BYTES - used, data.length - off);
        stage.set(data.subarray(off, off + n), used);
        used += n;
        off += n;
        if (used === STAGE_BYTES) ship();
      }
      if (queued > WRITE_BEHIND) await flush();
    },
    size: () => written,
    flush,
    digest: () => (digest ??= hash.digest('hex')),
    async commit(dest) {
      await flush();
      await fh.sync();
      await close();
      await fs.rename(tempPath, dest);
      committed = true;
      await syncDir(path.dirname(dest));
    },
    async discard() {
      // What has not gone to disk yet never needs to.
      stage = undefined;
      used = 0;
      pending = [];
      await settled();
      await close().catch(() => undefined);
      if (!committed) await fs.rm(tempPath, { force: true });
    },
  };
}

async function syncDir(dir: string): Promise<void> {
  // Not every platform lets a directory be opened for fsync; durability is best effort there.
  try {
    const d = await fs.open(dir, 'r');
    try {
      await d.sync();
    } finally {
      await d.close();
    }
  } catch {
    /* best effort */
  }
}

/** Throws unless the writer's content matches what the sender announced. */
export function verify(w: AtomicWriter, expect: { sha256?: string; size?: number }): void {
  if (expect.size !== undefined && w.size() !== expect.size) {
    throw new DeviceError(`size mismatch: got ${w.size()} bytes, expected ${expect.size}`);
  }
  if (expect.sha256 !== undefined) {
    const got = w.digest();
    if (got !== expect.sha256) throw new DeviceError(`SHA256 mismatch: got ${got}, expected ${expect.sha256}`);
  }
}
