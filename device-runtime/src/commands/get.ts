// `get`: streams a file on reply/out with sequence numbers, the final chunk (possibly empty)
// marked last. An empty body is the original CLI: 2800-byte chunks and no host acks. A body
// `{"window":n,"chunk":c}` asks for chunks of min(c, maxChunk) and promises `SEQ` acks; the
// device then stays at most `window` chunks ahead of the last ack. Either way at most
// PUBACK_WINDOW publishes are unacknowledged by the broker at any time, so a get never queues
// an unbounded amount inside the client.
import fs from 'node:fs/promises';
import { decodeGetOptions, encodeFrame, MAX_SEQ, ORIGINAL_GET_CHUNK } from '../../../protocol/src';
import type { AckRegistry } from '../ack-gate';
import { DeviceError, deviceFsError } from '../errors';
import { resolveDevicePath, type Jail } from '../jail';

const PUBACK_WINDOW = 16;

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
  if (!st.isFile()) {
    await fh.close();
    throw new DeviceError(`${st.isDirectory() ? 'EISDIR: is a directory' : 'not a regular file'}: ${p.device}`);
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
      // Read-ahead: the next chunk is read from disk while this one waits for its window.
      const readAt = (pos: number): Promise<{ data: Uint8Array; wanted: number }> => {
        const wanted = Math.min(chunk, Math.max(0, st.size - pos));
        if (wanted === 0) return Promise.resolve({ data: new Uint8Array(0), wanted });
        const buf = new Uint8Array(wanted);
        return fh.read(buf, 0, wanted, pos).then((r) => ({ data: buf.subarray(0, r.bytesRead), wanted }));
      };
      let next = readAt(0);
      next.catch(() => undefined); // awaited below; this only stops an early exit from leaking it
      try {
        for (let seq = 0, pos = 0; ; seq++) {
          if (gate) await gate.waitFor(seq, env.ackTimeoutMs);
          while (inflight.size >= PUBACK_WINDOW) await Promise.race(inflight);
          if (failure) throw failure;
          const { data, wanted } = await next;
          pos += data.length;
          // Snapshot semantics: the stream ends at the size seen when it was opened, or earlier
          // if the file shrank meanwhile.
          const last = pos >= st.size || data.length < wanted;
          if (!last) {
            next = readAt(pos);
            next.catch(() => undefined);
          }
          const p = env.publish(replyTopic, encodeFrame(seq, last, data)).then(
            () => void inflight.delete(p),
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
        await fh.close();
      }
    },
  };
}
