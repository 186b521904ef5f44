// `get`: streams a file on reply/out with sequence numbers, the final chunk (possibly empty)
// marked last. An empty body is the original CLI: 2800-byte chunks and no host acks. A body
// `{"window":n,"chunk":c}` asks for chunks of min(c, maxChunk) and promises `SEQ` acks; the
// device then stays at most `window` chunks ahead of the last ack. Either way at most
// PUBACK_WINDOW publishes are unacknowledged by the broker at any time, so a get never queues
// an unbounded amount inside the client.
import fs from 'node:fs/promises';
import { decodeGetOptions, HEADER_BYTES, MAX_SEQ, ORIGINAL_GET_CHUNK } from '../../../protocol/src';
import { lendPayload } from '../../../protocol/src/publish-without-copy';
import type { AckRegistry } from '../ack-gate';
import { DeviceError, deviceFsError } from '../errors';
import { checkOwnFile, resolveDevicePath, type Jail } from '../jail';

const PUBACK_WINDOW = 16;
/** A batch read from the file: about this many bytes, at most this many frames. */
const BATCH_BYTES = 512 * 1024;
const MAX_BATCH_FRAMES = 64;

/** One frame read from the file: `bytes` of the `wanted` body bytes arrived (fewer: EOF). */
interface Chunk {
  frame: Buffer;
  bytes: number;
  wanted: number;
}

export interface GetEnv {
  jail: Jail;
  maxChunk: number;
  acks: AckRegistry;
  ackTimeoutMs: number;
  /** Publishes at QoS 1, resolving on PUBACK. Only ever awaited outside the message handler. */
  publish(topic: string, payload: Uint8Array): Promise<void>;
}

export interface GetStream {
  device: string;
  size: number;
  /** Sends everything; run it outside the MQTT message handler (it awaits PUBACKs). */
  run(): Promise<void>;
}

/** Validates the request and opens the file; errors here become the command's error reply. */
export async function openGet(env: GetEnv, id: string, tail: string, body: Uint8Array, replyTopic: string): Promise<GetStream> {
  const opts = decodeGetOptions(body);
  if (!opts.ok) throw new DeviceError(opts.error);
  if (tail === '') throw new DeviceError('get needs a file path');
  const p = await resolveDevicePath(env.jail, tail);
  // Opening a FIFO for reading would wait for a writer forever: look before opening.
  const before = await fs.stat(p.host).catch((e: unknown) => {
    throw deviceFsError(e, p.device);
  });
  if (!before.isFile()) throw new DeviceError(`${before.isDirectory() ? 'EISDIR: is a directory' : 'not a regular file'}: ${p.device}`);
  const fh = await fs.open(p.host, 'r').catch((e: unknown) => {
    throw deviceFsError(e, p.device);
  });
  const st = await fh.stat();
  try {
    if (!st.isFile()) throw new DeviceError(`${st.isDirectory() ? 'EISDIR: is a directory' : 'not a regular file'}: ${p.device}`);
    checkOwnFile(env.jail, st, p.device);
  } catch (e) {
    await fh.close();
    throw e;
  }
  const chunk = Math.max(1, Math.min(opts.value.chunk ?? ORIGINAL_GET_CHUNK, env.maxChunk));
  const count = Math.max(1, Math.ceil(st.size / chunk));
  if (count > MAX_SEQ) {
    await fh.close();
    throw new DeviceError(`file too large for one stream at ${chunk}-byte chunks: ${p.device}`);
  }
  const window = opts.value.window;
  return {
    device: p.device,
    size: st.size,
    async run() {
      const gate = window !== undefined ? env.acks.open(id, window) : undefined;
      const inflight = new Set<Promise<void>>();
      let failure: unknown;
      // Frames are read from disk straight behind their 2-byte header, into buffers reused once
      // their publish is PUBACKed (the broker then has every byte, and mqtt.js has dropped the
      // packet from its resend store). A fresh zero-filled chunk plus a framed copy of it per
      // message was most of the device's garbage on a get. A frame whose publish failed is not
      // reused: mqtt.js may still hold it. At most PUBACK_WINDOW + 2 batches of frames exist.
      const free: Buffer[] = [];
      const frameBytes = HEADER_BYTES + chunk;
      // Frames are read in batches, one readv each, while the previous batch is being sent: one
      // file-system request per 64 KiB chunk cost more of the device's time (a thread-pool
      // round trip each) than reading the data.
      const batchSize = Math.max(1, Math.min(MAX_BATCH_FRAMES, Math.floor(BATCH_BYTES / chunk)));
      const readBatch = async (pos: number): Promise<Chunk[]> => {
        const chunks: Chunk[] = [];
        for (let p = pos; chunks.length < batchSize; p += chunk) {
          const wanted = Math.min(chunk, Math.max(0, st.size - p));
          const frame = wanted === chunk ? (free.pop() ?? lendPayload(Buffer.allocUnsafeSlow(frameBytes))) : Buffer.allocUnsafe(HEADER_BYTES + wanted);
          chunks.push({ frame, bytes: 0, wanted });
          if (p + wanted >= st.size) break;
        }
        let got = await readFully(fh, chunks.filter((c) => c.wanted > 0).map((c) => c.frame.subarray(HEADER_BYTES, HEADER_BYTES + c.wanted)), pos);
        for (const c of chunks) {
          c.bytes = Math.min(c.wanted, got);
          got -= c.bytes;
        }
        return chunks;
      };
      let next: Promise<Chunk[]> | undefined = readBatch(0);
      next.catch(() => undefined); // awaited below; this only stops an early exit from leaking it
      let ready: Chunk[] = [];
      try {
        for (let seq = 0, pos = 0; ; seq++) {
          if (gate) await gate.waitFor(seq, env.ackTimeoutMs);
          while (inflight.size >= PUBACK_WINDOW) await Promise.race(inflight);
          if (failure) throw failure;
          if (ready.length === 0) {
            ready = await next!;
            // Read ahead unless this batch ends the stream (the file's end, or a short read).
            const end = ready.reduce((n, c) => n + c.bytes, pos);
            const final = end >= st.size || ready.some((c) => c.bytes < c.wanted);
            next = final ? undefined : readBatch(end);
            next?.catch(() => undefined);
          }
          const { frame, bytes, wanted } = ready.shift()!;
          pos += bytes;
          // Snapshot semantics: the stream ends at the size seen when it was opened, or earlier
          // if the file shrank meanwhile.
          const last = pos >= st.size || bytes < wanted;
          if (seq > MAX_SEQ) throw new DeviceError(`sequence number out of range: ${seq}`);
          frame.writeUInt16BE((last ? 0x8000 : 0) | seq, 0);
          const payload = bytes === wanted ? frame : frame.subarray(0, HEADER_BYTES + bytes);
          const p = env.publish(replyTopic, payload).then(
            () => {
              inflight.delete(p);
              if (frame.length === frameBytes) free.push(frame);
            },
            (e: unknown) => {
              inflight.delete(p);
              failure ??= e;
            },
          );
          inflight.add(p);
          if (last) break;
        }
        await Promise.all(inflight);
        if (failure) throw failure;
      } finally {
        gate?.close();
        // A read still running when the stream failed must finish before its file is closed.
        await next?.catch(() => undefined);
        await fh.close();
      }
    },
  };
}

/**
 * Fills `bufs` from `pos` on, reading again after a short read (some file systems return less
 * than asked before the end); only a read of nothing is the end of the file. Returns the bytes read.
 */
async function readFully(fh: fs.FileHandle, bufs: Uint8Array[], pos: number): Promise<number> {
  let total = 0;
  while (bufs.length) {
    const { bytesRead } = await fh.readv(bufs, pos + total);
    if (bytesRead === 0) break;
    total += bytesRead;
    let done = bytesRead;
    while (bufs.length && done >= bufs[0]!.length) done -= bufs.shift()!.length;
    if (done > 0) bufs[0] = bufs[0]!.subarray(done);
  }
  return total;
}
