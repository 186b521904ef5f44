// A minimal host for tests: a plain mqtt.js client speaking the wire format by hand, so the
// tests pin the bytes on the wire rather than another engineer's engine.
import { createHash, randomBytes } from 'node:crypto';
import net from 'node:net';
import mqtt, { type MqttClient } from 'mqtt';
import {
  commandTopic,
  decodeAck,
  decodeFrame,
  encodeFrame,
  encodeGetOptions,
  encodePutTail,
  encodeSingle,
  makeCommandId,
  statusTopic,
  Status,
  text,
  utf8,
  type GetOptions,
} from '../../../protocol/src';

export type Reply = { ok: true; data: Uint8Array; acks: number[] } | { ok: false; error: string };

export interface TestHost {
  client: MqttClient;
  /** Sends frames (or one single-message body) and collects the reply stream. */
  command(prefix: string, cmd: string, tail: string, frames: Uint8Array[], opts?: CommandOpts): Promise<Reply>;
  eval(prefix: string, code: string): Promise<Reply>;
  put(prefix: string, path: string, data: Uint8Array, opts?: PutOpts): Promise<Reply>;
  get(prefix: string, path: string, opts?: GetOptions & { ackEvery?: number }): Promise<Reply>;
  json(prefix: string, cmd: string, path: string, body?: unknown): Promise<{ ok: true; value: unknown } | { ok: false; error: string }>;
  /** Resolves with the first status (retained or live) on `prefix` that satisfies `pred`. */
  status(prefix: string, pred: (s: Status) => boolean, timeoutMs?: number): Promise<Status>;
  close(): Promise<void>;
}

export interface CommandOpts {
  /** Keep at most this many frames beyond the last `SEQ` ack in flight (the original's 16). */
  window?: number;
  timeoutMs?: number;
  /** Command id; fresh by default. */
  id?: string;
  /** Called with each reply frame, for tests that ack get streams. */
  onFrame?: (seq: number, last: boolean) => void;
  /** Topic tail of the last frame, when it differs from the others'. */
  lastTail?: string;
}

export interface PutOpts {
  chunk?: number;
  window?: number;
  verify?: boolean;
  sha256?: string;
  /** Which message's tail names the SHA-256 (default the first, and so every one). */
  shaOn?: 'first' | 'last';
}

export const sha256 = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');
export const newId = (): string => makeCommandId((n) => randomBytes(n));

export function chunked(data: Uint8Array, chunk: number): Uint8Array[] {
  const n = Math.max(1, Math.ceil(data.length / chunk));
  return Array.from({ length: n }, (_, i) => encodeFrame(i, i === n - 1, data.subarray(i * chunk, (i + 1) * chunk)));
}

export async function connectHost(url: string): Promise<TestHost> {
  const client = await mqtt.connectAsync(url, { protocolVersion: 4, reconnectPeriod: 0, clientId: `test-host-${newId()}` });
  // mqtt.js writes a PUBLISH in several pieces; without NODELAY, Nagle holds the payload until
  // the broker ACKs the header, and every awaited publish costs a delayed-ACK wait.
  if (client.stream instanceof net.Socket) client.stream.setNoDelay(true);
  const handlers = new Map<string, (topic: string, payload: Buffer) => void>();
  client.on('message', (topic, payload) => {
    for (const [pattern, h] of handlers) if (matches(pattern, topic)) h(topic, payload);
  });
  const sub = async (pattern: string, h: (topic: string, payload: Buffer) => void) => {
    handlers.set(pattern, h);
    await client.subscribeAsync(pattern, { qos: 1 });
    return async () => {
      handlers.delete(pattern);
      await client.unsubscribeAsync(pattern);
    };
  };

  const command: TestHost['command'] = async (prefix, cmd, tail, frames, opts = {}) => {
    const id = opts.id ?? newId();
    const timeoutMs = opts.timeoutMs ?? 20_000;
    let ack = -1;
    let wake: (() => void) | undefined;
    const parts: Uint8Array[] = [];
    const acks: number[] = [];
    let expected = 0;
    let settle!: (r: Reply) => void;
    const done = new Promise<Reply>((r) => (settle = r));
    const unsub = await sub(`${prefix}/mqb/reply/+/${id}`, (topic, payload) => {
      if (topic.endsWith(`/err/${id}`)) return settle({ ok: false, error: text(payload) });
      const f = decodeFrame(payload);
      if (!f.ok) return settle({ ok: false, error: `bad frame: ${f.error}` });
      const seqAck = f.value.single ? decodeAck(f.value.body) : undefined;
      if (seqAck !== undefined) {
        acks.push(seqAck);
        ack = Math.max(ack, seqAck);
        wake?.();
        return;
      }
      if (!f.value.single) {
        if (f.value.seq < expected) return;
        if (f.value.seq > expected) return settle({ ok: false, error: `host: missing reply seq ${expected}, got ${f.value.seq}` });
        expected++;
      }
      opts.onFrame?.(f.value.seq, f.value.last);
      parts.push(Uint8Array.from(f.value.body));
      if (f.value.last) settle({ ok: true, data: Buffer.concat(parts), acks });
    });
    const timer = setTimeout(() => settle({ ok: false, error: `host: timeout after ${timeoutMs} ms` }), timeoutMs);
    try {
      const topic = commandTopic(prefix, cmd, id, tail);
      const lastTopic = opts.lastTail === undefined ? topic : commandTopic(prefix, cmd, id, opts.lastTail);
      const sender = (async () => {
        for (let seq = 0; seq < frames.length; seq++) {
          // The original CLI's flow control: never more than `window` frames beyond the last ack.
          while (opts.window !== undefined && seq - ack > opts.window) await new Promise<void>((r) => (wake = r));
          await client.publishAsync(seq === frames.length - 1 ? lastTopic : topic, Buffer.from(frames[seq]!), { qos: 1 });
        }
      })();
      const r = await Promise.race([done, sender.then(() => done)]);
      return r;
    } finally {
      clearTimeout(timer);
      wake?.();
      await unsub();
    }
  };

  const host: TestHost = {
    client,
    command,
    eval: (prefix, code) => command(prefix, 'eval', '', [encodeSingle(utf8(code))]),
    put: (prefix, path, data, o = {}) => {
      const verified = encodePutTail({ path, sha256: o.sha256 ?? sha256(data), size: data.length });
      if (o.verify && o.shaOn === 'last') {
        const tail = encodePutTail({ path, size: data.length });
        return command(prefix, 'put', tail, chunked(data, o.chunk ?? 1400), { window: o.window ?? 16, lastTail: verified });
      }
      return command(prefix, 'put', o.verify ? verified : path, chunked(data, o.chunk ?? 1400), { window: o.window ?? 16 });
    },
    get(prefix, path, o = {}) {
      const { ackEvery = Math.min(8, o.window ?? 8), ...opts } = o;
      const id = newId();
      return command(prefix, 'get', path, [encodeFrame(0, true, encodeGetOptions(opts))], {
        id,
        onFrame: (seq) => {
          // A host that asked for a window acks as it consumes, in the device's own ack form.
          if (opts.window && seq % ackEvery === 0) {
            void client.publishAsync(commandTopic(prefix, 'ack', id), Buffer.from(encodeSingle(utf8(`SEQ ${seq}`))), { qos: 1 });
          }
        },
      });
    },
    async json(prefix, cmd, path, body) {
      const r = await command(prefix, cmd, path, [encodeSingle(body === undefined ? new Uint8Array(0) : utf8(JSON.stringify(body)))]);
      return r.ok ? { ok: true, value: JSON.parse(text(r.data)) as unknown } : r;
    },
    async status(prefix, pred, timeoutMs = 10_000) {
      let unsub: (() => Promise<void>) | undefined;
      try {
        return await new Promise<Status>((resolve, reject) => {
          const t = setTimeout(() => reject(new Error(`no matching status on ${prefix} within ${timeoutMs} ms`)), timeoutMs);
          void sub(statusTopic(prefix), (_t, payload) => {
            const s = Status.safeParse(JSON.parse(payload.toString()));
            if (s.success && pred(s.data)) {
              clearTimeout(t);
              resolve(s.data);
            }
          }).then((u) => (unsub = u));
        });
      } finally {
        await unsub?.();
      }
    },
    close: () => client.endAsync(),
  };
  return host;
}

function matches(pattern: string, topic: string): boolean {
  const p = pattern.split('/');
  const t = topic.split('/');
  for (let i = 0; i < p.length; i++) {
    if (p[i] === '#') return true;
    if (i >= t.length) return false;
    if (p[i] !== '+' && p[i] !== t[i]) return false;
  }
  return p.length === t.length;
}
