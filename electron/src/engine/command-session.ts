// One command invocation: its fresh id, its reply stream (sequence-checked, acks separated from
// data), its error reply, an inactivity timeout and cancellation. Replies reach a session through
// the registry from one `P/mqb/reply/#` subscription per device, so starting a command costs no
// subscribe round trip.
import { randomBytes } from 'node:crypto';
import { checkSeq, concatBytes, decodeAck, decodeFrame, makeCommandId, text, type ReplyKind } from '../../../protocol/src';
import { EngineError } from './errors';

export interface SessionOptions {
  /** Fails the session after this long without any reply or progress (like the original CLI). */
  timeoutMs: number;
  signal?: AbortSignal;
  /** Treat short `SEQ n` bodies on reply/out as flow-control acks (put and ota). */
  acks?: boolean;
  onAck?: (seq: number) => void;
  /** Called for each in-order data chunk (get progress and host acks). */
  onChunk?: (seq: number, body: Uint8Array) => void;
  /**
   * Expected reply size, when known (get after a stat): chunks are copied straight into one
   * buffer, so they die young instead of piling up in the old generation until a final concat.
   */
  sizeHint?: number;
  /** What the command is, for error messages: `eval on esp32/test`. */
  what: string;
}

export interface Session {
  readonly id: string;
  readonly prefix: string;
  /** Resolves with the concatenated reply data once the last reply message arrives. */
  readonly result: Promise<Uint8Array>;
  /** Aborted when the session ends for any reason; send loops stop on it. */
  readonly ended: AbortSignal;
  /** Resets the inactivity timer (the sender made progress). */
  touch(): void;
  fail(err: EngineError): void;
}

type Handler = (kind: ReplyKind, payload: Uint8Array) => void;

export interface SessionRegistry {
  start(prefix: string, opts: SessionOptions): Session;
  /** Routes a reply; returns false when no session has that id (a stale or foreign reply). */
  dispatch(prefix: string, kind: ReplyKind, id: string, payload: Uint8Array): boolean;
  /** Fails every running session, e.g. when the broker connection drops. */
  failAll(err: EngineError): void;
  /** Fails the running sessions of one device; `err` may word the error per command. */
  failDevice(prefix: string, err: EngineError | ((what: string) => EngineError)): void;
  size(): number;
}

const key = (prefix: string, id: string) => `${prefix}\n${id}`;

/** Error replies are raw text on the original board; accept a 0xFFFF header too. */
export function errorText(payload: Uint8Array): string {
  const body = payload.length >= 2 && payload[0] === 0xff && payload[1] === 0xff ? payload.subarray(2) : payload;
  return text(body).trim();
}

/**
 * Everything a device reports is a device error, with two refinements the UI words differently:
 * an unknown command, and a refused hash or size (the original says "MQRepl protocol error ota:
 * SHA mismatch ...", our runtime "SHA256 mismatch ..." / "size mismatch ...").
 */
function deviceError(what: string, message: string): EngineError {
  if (/^Command '.*' not supported$/.test(message)) return new EngineError('not-supported', `${what}: ${message}`);
  if (/\b(SHA(256)?|size) mismatch\b/i.test(message)) return new EngineError('verify-failed', `${what}: ${message}`);
  return new EngineError('device-error', message || `${what}: the device reported an error without text`);
}

export function createSessionRegistry(): SessionRegistry {
  const handlers = new Map<string, { prefix: string; what: string; handler: Handler; fail: (e: EngineError) => void }>();

  return {
    start(prefix, opts) {
      let id = makeCommandId((n) => randomBytes(n));
      while (handlers.has(key(prefix, id))) id = makeCommandId((n) => randomBytes(n));
      const k = key(prefix, id);
      const ended = new AbortController();
      const parts: Uint8Array[] = [];
      let into = opts.sizeHint !== undefined && opts.sizeHint > 0 ? new Uint8Array(opts.sizeHint) : undefined;
      let filled = 0;
      let expected = 0;
      let timer: NodeJS.Timeout | undefined;
      let settle!: { resolve: (b: Uint8Array) => void; reject: (e: EngineError) => void };
      const result = new Promise<Uint8Array>((resolve, reject) => (settle = { resolve, reject }));
      // A caller may drop the promise after a failure it already saw through `ended`.
      result.catch(() => undefined);

      const finish = (err?: EngineError) => {
        if (ended.signal.aborted) return;
        handlers.delete(k);
        if (timer) clearTimeout(timer);
        opts.signal?.removeEventListener('abort', onAbort);
        ended.abort(err);
        if (err) settle.reject(err);
        else if (into) settle.resolve(filled === into.length ? into : into.subarray(0, filled));
        else settle.resolve(parts.length === 1 ? parts[0]! : concatBytes(parts));
      };
      const touch = () => {
        if (ended.signal.aborted) return;
        if (timer) clearTimeout(timer);
        timer = setTimeout(
          () => finish(new EngineError('timeout', `${opts.what}: no reply for ${Math.round(opts.timeoutMs / 100) / 10} s`)),
          opts.timeoutMs,
        );
      };
      const onAbort = () => finish(new EngineError('cancelled', `${opts.what}: cancelled`));

      const handler: Handler = (kind, payload) => {
        if (kind === 'err') return finish(deviceError(opts.what, errorText(payload)));
        const f = decodeFrame(payload);
        if (!f.ok) return finish(new EngineError('protocol-error', `${opts.what}: ${f.error}`));
        const frame = f.value;
        if (opts.acks) {
          const n = decodeAck(frame.body);
          if (n !== undefined) {
            touch();
            opts.onAck?.(n);
            return;
          }
        }
        const verdict = checkSeq(expected, frame);
        // Redelivered after a board reconnect: drop it. Not progress, so the timer keeps running.
        if (verdict === 'duplicate') return;
        touch();
        if (verdict === 'gap') {
          return finish(new EngineError('protocol-error', `${opts.what}: reply message missing (expected seq ${expected}, got ${frame.seq})`));
        }
        if (!frame.single) expected = frame.seq + 1;
        if (frame.body.length) {
          if (into && filled + frame.body.length > into.length) {
            // The file grew since the stat: fall back to collecting parts.
            parts.push(into.subarray(0, filled));
            into = undefined;
          }
          if (into) {
            into.set(frame.body, filled);
            filled += frame.body.length;
          } else {
            // mqtt-packet hands us a Buffer of its own per packet: keeping a view is safe.
            parts.push(frame.body);
          }
        }
        opts.onChunk?.(frame.seq, frame.body);
        if (frame.last) finish();
      };

      handlers.set(k, { prefix, what: opts.what, handler, fail: finish });
      if (opts.signal?.aborted) onAbort();
      else opts.signal?.addEventListener('abort', onAbort, { once: true });
      touch();
      return { id, prefix, result, ended: ended.signal, touch, fail: (e) => finish(e) };
    },
    dispatch(prefix, kind, id, payload) {
      const h = handlers.get(key(prefix, id));
      if (!h) return false;
      h.handler(kind, payload);
      return true;
    },
    failAll(err) {
      for (const h of [...handlers.values()]) h.fail(err);
    },
    failDevice(prefix, err) {
      for (const h of [...handlers.values()]) if (h.prefix === prefix) h.fail(typeof err === 'function' ? err(h.what) : err);
    },
    size: () => handlers.size,
  };
}
