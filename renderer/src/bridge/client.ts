// The renderer's typed bridge: `call('op', args)` returns the parsed, typed result or throws a
// BridgeCallError with the contract's error code. Every reply and event batch is parsed with
// the contract's schemas before anything else sees it.
import {
  CallReply,
  EventBatch,
  operations,
  type BridgeError,
  type OpArgs,
  type OperationName,
  type OpResult,
} from '../../../protocol/src';
import type { Transport } from './transport';

export class BridgeCallError extends Error {
  readonly code: BridgeError['code'];
  readonly issues: string[] | undefined;
  constructor(e: BridgeError) {
    super(e.message);
    this.code = e.code;
    this.issues = e.issues;
  }
}

export interface CallOptions {
  timeoutMs?: number;
  signal?: AbortSignal;
}

export interface BridgeClient {
  transport: Transport['kind'];
  call<N extends OperationName>(op: N, args: OpArgs<N>, opts?: CallOptions): Promise<OpResult<N>>;
  onEvents(listener: (batch: EventBatch) => void): () => void;
  onLost(listener: (why: string) => void): void;
  /** Desktop app: where a dropped or picked File lives on disk (the host reads it); '' elsewhere. */
  pathForFile(file: File): string;
}

/** The host enforces the timeout; the client waits a little longer so the host's answer wins. */
const CLIENT_GRACE_MS = 2_000;

export function createBridgeClient(t: Transport): BridgeClient {
  let seq = 0;
  const session = Math.random().toString(36).slice(2, 8);

  async function call<N extends OperationName>(op: N, args: OpArgs<N>, opts: CallOptions = {}): Promise<OpResult<N>> {
    const spec = operations[op];
    const id = `${session}-${++seq}`;
    const timeoutMs = opts.timeoutMs ?? spec.timeoutMs;
    const raw = await new Promise<unknown>((resolve, reject) => {
      if (opts.signal?.aborted) return reject(new BridgeCallError({ code: 'cancelled', message: 'cancelled' }));
      const onAbort = () => {
        t.cancel(id);
        reject(new BridgeCallError({ code: 'cancelled', message: 'cancelled' }));
      };
      const timer = setTimeout(() => {
        t.cancel(id);
        reject(new BridgeCallError({ code: 'timeout', message: `${op} timed out after ${timeoutMs} ms` }));
      }, timeoutMs + CLIENT_GRACE_MS);
      opts.signal?.addEventListener('abort', onAbort, { once: true });
      t.invoke(op, { id, args, timeoutMs })
        .then(resolve, (e: unknown) => reject(new BridgeCallError({ code: 'disconnected', message: e instanceof Error ? e.message : String(e) })))
        .finally(() => {
          clearTimeout(timer);
          opts.signal?.removeEventListener('abort', onAbort);
        });
    });
    const reply = CallReply.safeParse(raw);
    if (!reply.success) throw new BridgeCallError({ code: 'internal', message: `malformed reply to ${op}` });
    if (!reply.data.ok) throw new BridgeCallError(reply.data.error);
    const result = spec.result.safeParse(reply.data.result);
    if (!result.success) throw new BridgeCallError({ code: 'internal', message: `invalid result for ${op}: ${result.error.message}` });
    return result.data as OpResult<N>;
  }

  return {
    transport: t.kind,
    call,
    onEvents(listener) {
      return t.onEvents((raw) => {
        const batch = EventBatch.safeParse(raw);
        if (batch.success) listener(batch.data);
        else console.error('bridge: dropped an invalid event batch', batch.error.issues.slice(0, 5));
      });
    },
    onLost: (l) => t.onLost(l),
    pathForFile: (file) => t.pathForFile(file),
  };
}
