// Running one action on many devices: a bounded number at a time, each under its own timeout,
// results streamed as they come in. Devices known to be offline fail at once (or are handed to
// the queue) instead of holding a slot for the whole timeout. Plain data out: the CLI prints it
// as a table, the app streams it into its results view, both export it as CSV or JSON.
import { createHash } from 'node:crypto';
import type { ResetMode } from '../../../../protocol/src';
import type { DeviceResult, Outcome } from '../../../../protocol/src/fleet/results';
import type { Engine, Presence } from '../types';

export * from '../../../../protocol/src/fleet/results';

/** One device's work; it must stop when `signal` aborts (the engine's commands do). */
export type DeviceAction = (prefix: string, signal: AbortSignal) => Promise<string>;

export interface RunManyOptions {
  /** Devices worked on at once; default 16. */
  concurrency?: number;
  /** Per device, from its start to its result; default 30 s. */
  timeoutMs?: number;
  /** Cancels the whole run: devices not finished end as `cancelled`. */
  signal?: AbortSignal;
  /** Whether a device is online now; default: every device is tried. */
  presence?: (prefix: string) => Presence;
  /**
   * For a device whose presence is `offline`: hand it to the queue (its result says `queued`)
   * instead of failing it at once as `offline`. A device of `unknown` presence is tried.
   */
  enqueue?: (prefix: string) => void;
  onStart?: (prefix: string) => void;
  onResult?: (r: DeviceResult) => void;
}

const errorText = (e: unknown): string => (e instanceof Error ? e.message : String(e));
const codeOf = (e: unknown): string | undefined => (e instanceof Error ? ((e as { code?: unknown }).code as string | undefined) : undefined);

/** Why a device failed as a table status: the engine's timeout and our own are one `timeout`. */
function classify(e: unknown, timedOut: boolean, cancelled: boolean): Outcome {
  if (timedOut) return 'timeout';
  if (cancelled) return 'cancelled';
  if (codeOf(e) === 'timeout') return 'timeout';
  return 'error';
}

/**
 * Runs `action` on every prefix, at most `concurrency` at once. Resolves with one result per
 * prefix in the order given, once all are in; `onResult` streams them as they arrive.
 */
export async function runMany(prefixes: readonly string[], action: DeviceAction, opts: RunManyOptions = {}): Promise<DeviceResult[]> {
  const concurrency = Math.max(1, Math.min(1000, Math.floor(opts.concurrency ?? 16)));
  const timeoutMs = opts.timeoutMs ?? 30_000;
  if (!(timeoutMs > 0)) throw new RangeError(`timeout must be positive: ${timeoutMs}`);
  const results = new Array<DeviceResult>(prefixes.length);
  const report = (i: number, r: DeviceResult) => {
    results[i] = r;
    try {
      opts.onResult?.(r);
    } catch {
      // A listener's bug must not stop the run.
    }
  };

  const runOne = async (i: number): Promise<void> => {
    const prefix = prefixes[i]!;
    if (opts.signal?.aborted) return report(i, { prefix, status: 'cancelled', error: 'cancelled', ms: 0 });
    if (opts.presence?.(prefix) === 'offline') {
      if (opts.enqueue) {
        try {
          opts.enqueue(prefix);
        } catch (e) {
          // A full queue or a put too large to queue fails this device, not the whole run.
          return report(i, { prefix, status: 'offline', error: `the device is offline and could not be queued: ${errorText(e)}`, ms: 0 });
        }
        return report(i, { prefix, status: 'queued', error: 'offline: queued until it is back online', ms: 0 });
      }
      return report(i, { prefix, status: 'offline', error: 'the device is offline', ms: 0 });
    }
    const ac = new AbortController();
    let timedOut = false;
    let cancelled = false;
    const t0 = performance.now();
    // The race frees the slot even if an action ignores its signal.
    let expire: () => void = () => undefined;
    const expired = new Promise<never>((_, reject) => (expire = () => reject(new Error('no result in time'))));
    const timer = setTimeout(() => {
      timedOut = true;
      ac.abort(new Error(`no result within ${timeoutMs} ms`));
      expire();
    }, timeoutMs);
    const onCancel = () => {
      cancelled = true;
      ac.abort(new Error('cancelled'));
      expire();
    };
    opts.signal?.addEventListener('abort', onCancel, { once: true });
    expired.catch(() => undefined);
    opts.onStart?.(prefix);
    // A listener may have cancelled the run as this device started.
    if (opts.signal?.aborted) onCancel();
    try {
      const started = Promise.resolve().then(() => {
        if (ac.signal.aborted) throw new Error('cancelled');
        return action(prefix, ac.signal);
      });
      const output = await Promise.race([started, expired]);
      report(i, { prefix, status: 'ok', output: String(output), ms: Math.round(performance.now() - t0) });
    } catch (e) {
      const status = classify(e, timedOut, cancelled);
      const error = status === 'timeout' && timedOut ? `no result within ${timeoutMs / 1000} s` : status === 'cancelled' ? 'cancelled' : errorText(e);
      report(i, { prefix, status, error, ms: Math.round(performance.now() - t0) });
    } finally {
      clearTimeout(timer);
      opts.signal?.removeEventListener('abort', onCancel);
    }
  };

  let next = 0;
  const worker = async () => {
    while (next < prefixes.length) await runOne(next++);
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, prefixes.length) }, worker));
  return results;
}

// Actions built from the engine's commands. Each passes the run's signal, and the run's timeout
// as the command's inactivity timeout so the engine gives up no later than the scheduler.

export const evalAction =
  (engine: Engine, code: string, timeoutMs?: number): DeviceAction =>
  (prefix, signal) =>
    engine.eval(prefix, code, { signal, timeoutMs });

/** Puts a file (verified by the engine: our runtime checks size and hash, original boards are read back). */
export function putAction(engine: Engine, path: string, data: Uint8Array, timeoutMs?: number, onlyChanged = false): DeviceAction {
  const sha = createHash('sha256').update(data).digest('hex');
  return async (prefix, signal) => {
    if (onlyChanged) {
      // Like `sync`: a file the device already holds byte for byte is left alone. A file the
      // device cannot hash (missing, or any other error) is written, and the put verifies it.
      const there = await engine.sha256(prefix, path, { signal, timeoutMs }).catch(() => null);
      if (there?.toLowerCase() === sha) return `${path}: unchanged`;
    }
    await engine.put(prefix, path, data, { signal, timeoutMs });
    return `${path}: ${data.length} bytes, sha256 ${sha.slice(0, 12)}`;
  };
}

export const resetAction =
  (engine: Engine, mode: ResetMode, timeoutMs?: number): DeviceAction =>
  async (prefix, signal) => {
    await engine.reset(prefix, mode, { signal, timeoutMs });
    return `reset ${mode}`;
  };

/**
 * One action as both front ends describe it (the CLI from its arguments, the app from a job):
 * the same engine calls, outputs and titles either way.
 */
export type FleetAction =
  | { kind: 'eval'; code: string }
  | { kind: 'put'; files: ReadonlyArray<{ path: string; data: Uint8Array }>; /** Skip files the device already has (sync). */ onlyChanged?: boolean }
  | { kind: 'reset'; mode: ResetMode };

/** The device action for a FleetAction; a put writes its files in order, each verified, one output line per file. */
export function fleetAction(engine: Engine, a: FleetAction, timeoutMs?: number): DeviceAction {
  switch (a.kind) {
    case 'eval':
      return evalAction(engine, a.code, timeoutMs);
    case 'reset':
      return resetAction(engine, a.mode, timeoutMs);
    case 'put': {
      const puts = a.files.map((f) => putAction(engine, f.path, f.data, timeoutMs, a.onlyChanged));
      return async (prefix, signal) => {
        const lines: string[] = [];
        for (const put of puts) lines.push(await put(prefix, signal));
        return lines.join('\n');
      };
    }
  }
}

/** What ran, in one line for a table's title: the code, the paths, or the reset mode. */
export function actionTitle(a: FleetAction, width = 200): string {
  const text = a.kind === 'eval' ? a.code.replace(/\s*\n\s*/g, ' ⏎ ').trim() : a.kind === 'put' ? a.files.map((f) => f.path).join(', ') : `reset ${a.mode}`;
  return text.length > width ? `${text.slice(0, width - 1)}…` : text;
}

/** The presence the scheduler checks before each device: what the engine knows of it now. */
export const enginePresence =
  (engine: Engine) =>
  (prefix: string): Presence =>
    engine.device(prefix)?.presence ?? 'unknown';
