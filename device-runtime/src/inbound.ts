// Sequencing for the streamed uploads (put, ota), per the original: seq 0 opens, each next seq
// is written, a lower seq is a duplicate and silently dropped, a higher one is a gap and fails
// the transfer; the last message finishes it. Every 8th message (`seq & 7 == 0`) is acked with
// `SEQ n` so the sender can keep a bounded window (the original acks only ota; acking put too
// is what lets the original CLI's own >100 KB flow control work).
import { checkSeq, shouldAck, type Frame } from '../../protocol/src';
import { ProtocolError } from './errors';

/** One upload in progress. `abort` must leave no trace (temp files removed). */
export interface Upload {
  /** What the upload writes to, so a new upload to the same target can replace this one. */
  target: string;
  write(data: Uint8Array): Promise<void>;
  /**
   * Verifies and commits; returns the final reply text (`OK`). `tail` is the last message's
   * topic tail, which may carry expectations the first one did not (a put's SHA-256).
   */
  finish(tail: string): Promise<string>;
  abort(): Promise<void>;
}

interface Entry {
  upload: Upload;
  expected: number;
  touched: number;
  /** Abandons the upload when no message comes for the idle time. */
  idle?: NodeJS.Timeout;
}

export type InboundResult = { kind: 'ack'; seq: number } | { kind: 'done'; reply: string } | { kind: 'none' };

export interface Uploads {
  /**
   * Feeds one message of upload `id`. `open` is called for seq 0 of a new id. Throws
   * ProtocolError for sequencing faults and whatever `open`/`write`/`finish` throw; the upload
   * is aborted first in every failure case.
   */
  handle(id: string, tail: string, frame: Frame, open: () => Promise<Upload>): Promise<InboundResult>;
  abortAll(): Promise<void>;
  active(): number;
}

// Ids of uploads that failed: their remaining in-flight chunks are dropped quietly instead of
// each earning another "missing first message" error. Bounded; oldest forgotten first.
const FAILED_MEMORY = 64;

export interface UploadLimits {
  /** An upload without a message for this long is abandoned and its temp data removed. */
  idleMs: number;
  maxConcurrent?: number;
  /** Told when abandoning an idle upload fails (its temp file could not be removed). */
  onIdleError?: (e: unknown) => void;
}

export function createUploads(limits: UploadLimits): Uploads {
  const maxConcurrent = limits.maxConcurrent ?? 8;
  const live = new Map<string, Entry>();
  const failed: string[] = [];
  const remember = (id: string) => {
    failed.push(id);
    if (failed.length > FAILED_MEMORY) failed.shift();
  };
  const drop = async (id: string) => {
    const e = live.get(id);
    live.delete(id);
    if (e) {
      clearTimeout(e.idle);
      await e.upload.abort();
    }
  };
  // Each upload has its own timer, so an interrupted transfer's temp file goes at its idle
  // timeout, not at the next round of a periodic sweep.
  const armIdle = (id: string, e: Entry) => {
    clearTimeout(e.idle);
    e.idle = setTimeout(() => {
      if (live.get(id) !== e) return;
      remember(id);
      drop(id).catch((err: unknown) => limits.onIdleError?.(err));
    }, limits.idleMs);
    e.idle.unref();
  };

  return {
    async handle(id, tail, frame, open) {
      // A 0xFFFF single message is a whole upload in one message.
      const seq = frame.single ? 0 : frame.seq;
      const last = frame.last;
      let e = live.get(id);
      if (!e) {
        if (seq !== 0) {
          if (failed.includes(id)) return { kind: 'none' };
          throw new ProtocolError('missing first message');
        }
        const upload = await open();
        // Replace any upload to the same target: the newer one wins, the older one's temp
        // data is discarded, and the real file is untouched until one of them completes.
        for (const [other, oe] of live) if (oe.upload.target === upload.target) await drop(other);
        if (live.size >= maxConcurrent) {
          const oldest = [...live.entries()].sort((a, b) => a[1].touched - b[1].touched)[0]!;
          await drop(oldest[0]);
          remember(oldest[0]);
        }
        e = { upload, expected: 0, touched: Date.now() };
        live.set(id, e);
      }
      const verdict = checkSeq(e.expected, { ...frame, seq, single: false });
      if (verdict === 'duplicate') return { kind: 'none' };
      if (verdict === 'gap') {
        const expected = e.expected;
        await drop(id);
        remember(id);
        throw new ProtocolError(`message missing: ${seq} vs. ${expected}`);
      }
      e.expected = seq + 1;
      e.touched = Date.now();
      // Not idle while its own message is being handled (a slow disk is not an idle sender).
      clearTimeout(e.idle);
      try {
        await e.upload.write(frame.body);
        if (last) {
          live.delete(id);
          return { kind: 'done', reply: await e.upload.finish(tail) };
        }
        if (live.get(id) === e) armIdle(id, e);
      } catch (err) {
        await drop(id);
        await e.upload.abort();
        remember(id);
        throw err;
      }
      return shouldAck(seq) ? { kind: 'ack', seq } : { kind: 'none' };
    },
    async abortAll() {
      for (const id of [...live.keys()]) await drop(id);
    },
    active: () => live.size,
  };
}
