// Commands and streamed transfers: one-message commands (eval, file commands, reset), put, get
// and ota, with a bounded window of unacknowledged chunks. A broker's PUBACK only means it
// accepted a message; a stock Mosquitto drops QoS 1 messages once a subscriber's queue passes
// 1000 (wire facts), so the only safe pace is the receiver's own: its `SEQ n` acks, or for
// original boards that never ack a put, the reply to a cheap eval sent behind the chunks (a
// board handles its messages in order, so that reply proves everything before it was consumed).
import { createHash } from 'node:crypto';
import {
  HEADER_BYTES,
  WINDOW,
  commandTopic,
  encodeAck,
  encodeFrame,
  encodeGetOptions,
  encodePutTail,
  encodeSingle,
  isSha256Hex,
  shouldAck,
  text,
  utf8,
} from '../../../protocol/src';
import { lendPayload } from '../../../protocol/src/publish-without-copy';
import type { Session, SessionOptions } from './command-session';
import type { CommandContext, DeviceProfile } from './device-profile';
import { EngineError } from './errors';
import { createProgressMeter } from './progress';
import type { Progress } from './types';

/** Original boards: a pacing eval after every this many put chunks, at most two outstanding. */
export const PACE_EVERY = 16;
const PACE_OUTSTANDING = 2;
/**
 * The window we ask a getAck device for on `get`: how many chunks it may send beyond our last
 * `SEQ` ack. It is our own receive window, so the protocol leaves it to us; the device's memory
 * does not depend on it (it keeps at most 16 publishes awaiting PUBACK either way). With 16 and
 * acks every 8th chunk, the device idled ~8 chunks per ack round trip; 48 measured ~15 % faster
 * at 64 KiB chunks on loopback (bench, 2 shared cores). It stays far below a stock Mosquitto's
 * per-client queue limit (1000) and bounds what the broker holds for us to 48 chunks (3 MiB at
 * 64 KiB). Puts keep 16: a larger put window measured no faster (the device consumes them in
 * order, so the window is not what holds a put back).
 */
export const GET_WINDOW = 48;

type Common = Pick<SessionOptions, 'timeoutMs' | 'signal'>;

function startSession(ctx: CommandContext, prefix: string, cmd: string, opts: Common & Partial<SessionOptions>): Session {
  return ctx.sessions.start(prefix, { what: `${cmd} on ${prefix}`, ...opts });
}

/** Publishes a command message; a failed publish fails the session. */
function send(ctx: CommandContext, s: Session, topic: string, payload: Uint8Array): Promise<boolean> {
  return ctx.conn.publish(topic, payload).then(
    () => true,
    (e: unknown) => {
      s.fail(e instanceof EngineError ? e : new EngineError('disconnected', String(e)));
      return false;
    },
  );
}

/**
 * Reusable frame buffers for one stream. A fresh 64 KiB frame per chunk (zero-filled, then
 * copied into) was the engine's largest cost after the socket itself: 16 MB of short-lived
 * external memory per 16 MB put, and the GC work it triggers. A frame goes back to the pool
 * only once its publish has been PUBACKed: by then the broker has all of its bytes (so the
 * socket no longer holds it) and mqtt.js has dropped it from its resend store. A frame whose
 * publish failed is never reused, as mqtt.js may still hold it for a resend. The pool holds
 * at most as many frames as were in flight at once (the window bounds that).
 */
function framePool(frameBytes: number) {
  const free: Buffer[] = [];
  return {
    /** A frame for `body` with its 2-byte header; the caller must `release` it after PUBACK. */
    frame(seq: number, last: boolean, body: Uint8Array): Buffer {
      const out = body.length + HEADER_BYTES === frameBytes ? (free.pop() ?? lendPayload(Buffer.allocUnsafeSlow(frameBytes))) : Buffer.allocUnsafe(body.length + HEADER_BYTES);
      out.writeUInt16BE((last ? 0x8000 : 0) | seq, 0);
      out.set(body, HEADER_BYTES);
      return out;
    },
    release(b: Buffer): void {
      if (b.length === frameBytes) free.push(b);
    },
  };
}

/** A one-message command (seq 0, last: the original board refuses anything else for eval). */
export function simpleCommand(ctx: CommandContext, prefix: string, cmd: string, tail: string, body: Uint8Array, opts: Common): Promise<Uint8Array> {
  const s = startSession(ctx, prefix, cmd, opts);
  void send(ctx, s, commandTopic(prefix, cmd, s.id, tail), encodeFrame(0, true, body));
  return s.result;
}

export async function evalText(ctx: CommandContext, prefix: string, code: string, opts: Common): Promise<string> {
  return text(await simpleCommand(ctx, prefix, 'eval', '', utf8(code), opts));
}

/** Waits until `ready()` holds, re-checking on every `poke`; rejects when the session ends. */
function waiter(s: Session) {
  let wake: (() => void) | undefined;
  const poke = () => {
    const w = wake;
    wake = undefined;
    w?.();
  };
  s.ended.addEventListener('abort', poke, { once: true });
  return {
    poke,
    async until(ready: () => boolean): Promise<void> {
      while (!ready()) {
        if (s.ended.aborted) throw s.ended.reason;
        await new Promise<void>((resolve) => (wake = resolve));
      }
      if (s.ended.aborted) throw s.ended.reason;
    },
  };
}

interface StreamOptions extends Common {
  onProgress?: (p: Progress) => void;
}

/**
 * Topic tails of a stream whose last message says more than the others: `last` is asked for
 * only once every chunk has been handed to `body` (in order), so it can name their hash.
 */
export interface StreamTails {
  body: string;
  chunk?: (data: Uint8Array) => void;
  last: () => string;
}

/**
 * Streams `data` as a put or ota command. With `acked`, the device's `SEQ n` replies bound the
 * window; otherwise (original board put) pacing evals do. Resolves with the final reply text.
 */
async function sendStream(
  ctx: CommandContext,
  dev: DeviceProfile,
  cmd: 'put' | 'ota',
  tail: string | StreamTails,
  data: Uint8Array,
  chunk: number,
  acked: boolean,
  opts: StreamOptions,
): Promise<string> {
  let lastAck = -1;
  const meter = createProgressMeter(data.length, opts.onProgress);
  // eslint-disable-next-line prefer-const -- assigned after the session that uses it in onAck
  let w: ReturnType<typeof waiter>;
  const s = startSession(ctx, dev.prefix, cmd, {
    ...opts,
    acks: true,
    onAck: (n) => {
      if (n > lastAck) lastAck = n;
      w.poke();
    },
  });
  w = waiter(s);
  const tails: StreamTails = typeof tail === 'string' ? { body: tail, last: () => tail } : tail;
  const topic = commandTopic(dev.prefix, cmd, s.id, tails.body);
  const count = Math.max(1, Math.ceil(data.length / chunk));
  if (count > 0x7fff) {
    s.fail(new EngineError('invalid-argument', `${data.length} bytes need ${count} chunks of ${chunk}: more than a stream can carry`));
    return text(await s.result);
  }
  const paces: Promise<Uint8Array>[] = [];
  const pool = framePool(chunk + HEADER_BYTES);
  try {
    for (let seq = 0; seq < count; seq++) {
      if (acked) await w.until(() => seq - lastAck <= WINDOW);
      const last = seq === count - 1;
      const body = data.subarray(seq * chunk, (seq + 1) * chunk);
      tails.chunk?.(body);
      const frame = pool.frame(seq, last, body);
      void send(ctx, s, last ? commandTopic(dev.prefix, cmd, s.id, tails.last()) : topic, frame).then((ok) => ok && pool.release(frame));
      meter.update(Math.min(data.length, (seq + 1) * chunk));
      if (!acked && !last && (seq + 1) % PACE_EVERY === 0) {
        const pace = simpleCommand(ctx, dev.prefix, 'eval', '', utf8('0'), { timeoutMs: opts.timeoutMs });
        paces.push(pace);
        if (paces.length >= PACE_OUTSTANDING) {
          await Promise.race([paces.shift()!, s.result]);
          s.touch();
        }
      }
      if (s.ended.aborted) break;
    }
  } catch (e) {
    if (!s.ended.aborted) s.fail(e instanceof EngineError ? e : new EngineError('protocol-error', String(e)));
  }
  const reply = text(await s.result);
  meter.done(data.length);
  return reply;
}

export interface PutParams extends StreamOptions {
  chunk?: number;
  /** The hash the device must verify; default the hash of the data. */
  expectSha256?: string;
}

const checkSha = (s: string | undefined) => {
  if (s !== undefined && !isSha256Hex(s.toLowerCase())) throw new EngineError('invalid-argument', `not a SHA-256 hex digest: ${s}`);
};

/**
 * The topic tails of a put, and the SHA-256 of what went through them. Our runtime checks size
 * and hash before it renames. When the hash is not given and the device takes it on the last
 * message (`putShaLast`), it is computed while sending: hashing all the data first would hold
 * the first chunk back by the hash's time (~10 ms per 16 MB here). A device without that
 * capability gets it on every message, as before. The original board would take the query as
 * part of the file name, so it gets the bare path (and the engine reads its hash back after).
 */
export function putTails(dev: Pick<DeviceProfile, 'native' | 'putShaLast'>, path: string, data: Uint8Array, given?: string): StreamTails & { sha256(): string } {
  const size = data.length;
  if (!dev.native || given !== undefined || !dev.putShaLast) {
    const sha256 = given ?? createHash('sha256').update(data).digest('hex');
    const tail = dev.native ? encodePutTail({ path, sha256, size }) : path;
    return { body: tail, last: () => tail, sha256: () => sha256 };
  }
  const hash = createHash('sha256');
  let sha256: string | undefined;
  // Only valid once every chunk went through `chunk`: on the last tail, or after the stream.
  const digest = () => (sha256 ??= hash.digest('hex'));
  return {
    body: encodePutTail({ path, size }),
    chunk: (b) => hash.update(b),
    last: () => encodePutTail({ path, sha256: digest(), size }),
    sha256: digest,
  };
}

export const sha256Of = (data: Uint8Array): string => createHash('sha256').update(data).digest('hex');

/** Streams a file; resolves with the SHA-256 the device was asked to verify (or we will). */
export async function put(ctx: CommandContext, dev: DeviceProfile, path: string, data: Uint8Array, opts: PutParams): Promise<string> {
  if (!path) throw new EngineError('invalid-argument', 'put needs a destination path');
  checkSha(opts.expectSha256);
  const chunk = Math.max(1, Math.min(opts.chunk ?? dev.maxChunk, dev.maxChunk));
  const tails = putTails(dev, path, data, opts.expectSha256?.toLowerCase());
  await sendStream(ctx, dev, 'put', tails, data, chunk, dev.putAck, opts);
  return tails.sha256();
}

export async function ota(ctx: CommandContext, dev: DeviceProfile, image: Uint8Array, opts: PutParams): Promise<{ sha256: string; bytes: number }> {
  if (image.length === 0) throw new EngineError('invalid-argument', 'refusing an empty firmware image');
  checkSha(opts.expectSha256);
  if (dev.maxImage !== undefined && image.length > dev.maxImage) {
    throw new EngineError('invalid-argument', `image of ${image.length} bytes exceeds the device's limit of ${dev.maxImage}`);
  }
  const chunk = Math.max(1, Math.min(opts.chunk ?? dev.maxChunk, dev.maxChunk));
  const sha256 = opts.expectSha256?.toLowerCase() ?? createHash('sha256').update(image).digest('hex');
  // Every board acks ota chunks (the original too), so the window always applies.
  await sendStream(ctx, dev, 'ota', sha256, image, chunk, true, opts);
  return { sha256, bytes: image.length };
}

export interface GetParams extends StreamOptions {
  chunk?: number;
  /** Expected size for progress, when the caller knows it. */
  size?: number;
}

export async function get(ctx: CommandContext, dev: DeviceProfile, path: string, opts: GetParams): Promise<Uint8Array> {
  if (!path) throw new EngineError('invalid-argument', 'get needs a path');
  let received = 0;
  const meter = createProgressMeter(opts.size ?? 0, opts.onProgress);
  const ackTopic = (id: string) => commandTopic(dev.prefix, 'ack', id);
  let id = '';
  const s = startSession(ctx, dev.prefix, 'get', {
    ...opts,
    sizeHint: opts.size,
    onChunk: (seq, body) => {
      received += body.length;
      meter.update(received);
      // Host acks let a getAck device keep a bounded window (same rule as the device's acks).
      if (dev.getAck && shouldAck(seq)) ctx.conn.publish(ackTopic(id), encodeSingle(encodeAck(seq))).catch(() => undefined);
    },
  });
  id = s.id;
  const body = dev.getAck ? encodeGetOptions({ window: GET_WINDOW, chunk: Math.min(opts.chunk ?? dev.maxChunk, dev.maxChunk) }) : new Uint8Array(0);
  void send(ctx, s, commandTopic(dev.prefix, 'get', s.id, path), encodeFrame(0, true, body));
  const data = await s.result;
  meter.done(data.length);
  return data;
}
