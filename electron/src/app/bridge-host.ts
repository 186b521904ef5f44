// The host side of the bridge, shared by both transports (Electron IPC and the web-mode
// WebSocket): it parses every call with the contract's schemas, runs the handler with a timeout
// and a cancel signal, and turns every failure into a typed BridgeError. Transports only move
// envelopes; they never see a handler.
import type { z } from 'zod';
import {
  CallEnvelope,
  issueLines,
  isOperationName,
  operations,
  type BridgeError,
  type CallReply,
  type EventBatch,
  type OperationName,
  type Operations,
  type StreamName,
} from '../../../protocol/src';
import { toBridgeError } from './errors';
import { createEventHub, type EventHub, type EventSink } from './event-hub';

/** Per call: the client that made it (for `subscribe`) and its cancel signal. */
export interface CallContext {
  signal: AbortSignal;
  client: BridgeClient;
}

export type Handler<N extends OperationName> = (
  args: z.infer<Operations[N]['args']>,
  ctx: CallContext,
) => Promise<z.infer<Operations[N]['result']>>;

export type Handlers = { [N in OperationName]: Handler<N> };

/** One connected renderer (a window or a WebSocket). */
export interface BridgeClient {
  /** Runs one call: `op` and `envelope` are untrusted until parsed here. */
  call(op: unknown, envelope: unknown): Promise<{ id: string | undefined; reply: CallReply }>;
  cancel(id: unknown): void;
  setStreams(streams: StreamName[]): void;
  /**
   * Desktop app: a path on disk the user gave this window (a dropped or picked File, reported
   * by the preload). `xferStagePath` reads only granted paths.
   */
  grantPath(path: string): void;
  granted(path: string): boolean;
  close(): void;
}

/** Granted paths kept per client; the oldest go first (a drop is staged right after it). */
const MAX_GRANTS = 10_000;

export interface BridgeHost {
  /** A new client; `send` receives its event batches (at most one per batch interval). */
  connect(send: (batch: EventBatch) => void): BridgeClient;
  events: EventHub;
}

export function createBridgeHost(handlers: Handlers, opts: { batchMs?: number } = {}): BridgeHost {
  const events = createEventHub(opts.batchMs ?? 50);

  function connect(send: (batch: EventBatch) => void): BridgeClient {
    const inFlight = new Map<string, AbortController>();
    const grants = new Set<string>();
    const sink: EventSink = events.attach(send);
    const client: BridgeClient = {
      async call(op, raw) {
        const env = CallEnvelope.safeParse(raw);
        if (!env.success) {
          return { id: undefined, reply: fail({ code: 'bad-request', message: 'malformed call', issues: issueLines(env.error) }) };
        }
        const { id, args, timeoutMs } = env.data;
        if (!isOperationName(op)) {
          return { id, reply: fail({ code: 'bad-request', message: `unknown operation ${JSON.stringify(String(op)).slice(0, 80)}` }) };
        }
        if (inFlight.has(id)) return { id, reply: fail({ code: 'bad-request', message: `call id ${id} is already in flight` }) };
        const spec = operations[op];
        const parsed = spec.args.safeParse(args ?? {});
        if (!parsed.success) {
          return { id, reply: fail({ code: 'bad-request', message: `invalid arguments for ${op}`, issues: issueLines(parsed.error) }) };
        }
        const ac = new AbortController();
        inFlight.set(id, ac);
        const limit = timeoutMs ?? spec.timeoutMs;
        const timer = setTimeout(() => ac.abort(new TimeoutAbort(op, limit)), limit);
        try {
          const run = (handlers[op] as Handler<OperationName>)(parsed.data as never, { signal: ac.signal, client });
          const result = await raceAbort(run, ac.signal);
          // The handler is ours, but the result still goes through its schema: it strips fields
          // the contract does not name (a secret added to an engine type cannot leak by accident).
          const out = spec.result.safeParse(result);
          if (!out.success) {
            return { id, reply: fail({ code: 'internal', message: `${op} produced an invalid result`, issues: issueLines(out.error) }) };
          }
          return { id, reply: { ok: true, result: out.data } };
        } catch (e) {
          return { id, reply: fail(abortReason(ac.signal) ?? toBridgeError(e)) };
        } finally {
          clearTimeout(timer);
          inFlight.delete(id);
        }
      },
      cancel(id) {
        if (typeof id === 'string') inFlight.get(id)?.abort(new CancelAbort());
      },
      setStreams(streams) {
        sink.setStreams(streams);
      },
      grantPath(p) {
        if (typeof p !== 'string' || p.length === 0 || p.length > 4096) return;
        grants.delete(p);
        grants.add(p);
        if (grants.size > MAX_GRANTS) grants.delete(grants.values().next().value!);
      },
      granted: (p) => grants.has(p),
      close() {
        grants.clear();
        for (const ac of inFlight.values()) ac.abort(new CancelAbort());
        inFlight.clear();
        sink.detach();
      },
    };
    return client;
  }

  return { connect, events };
}

const fail = (error: BridgeError): CallReply => ({ ok: false, error });

class TimeoutAbort extends Error {
  constructor(op: string, ms: number) {
    super(`${op} timed out after ${ms} ms`);
  }
}
class CancelAbort extends Error {
  constructor() {
    super('cancelled');
  }
}

function abortReason(signal: AbortSignal): BridgeError | undefined {
  if (!signal.aborted) return undefined;
  const r: unknown = signal.reason;
  if (r instanceof TimeoutAbort) return { code: 'timeout', message: r.message };
  return { code: 'cancelled', message: 'cancelled' };
}

/** Settles with the handler, or as soon as the call is cancelled or times out. */
function raceAbort<T>(p: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}
