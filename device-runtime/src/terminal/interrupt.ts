// Interrupting a running REPL evaluation without resetting the device.
//
// The problem: `while(true){}` blocks the device's only JavaScript thread, and that thread is
// also the one that reads the device's MQTT socket, so it can never see the `interrupt` sent to
// it. Killing the evaluation in a worker would lose the persistent eval context (the whole point
// of a REPL), and V8's `TerminateExecution` reached some other way (inspector) unwinds through
// mqtt.js and Node internals, leaving them half-updated.
//
// The design, which is what Node's own REPL does on a TTY (`breakEvalOnSigint`), with a helper
// thread playing the part of the terminal driver:
//   1. Every evaluation runs with vm's `breakOnSigint`: while it runs, a SIGINT makes V8 stop the
//      script and vm throws ERR_SCRIPT_EXECUTION_INTERRUPTED at the call site, a clean exception
//      in our own code. Node also detaches `process.on('SIGINT')` listeners for that time.
//   2. A worker thread holds a second, small MQTT connection subscribed to `P/mqb/term/+/ctl`
//      (started with the first terminal session, stopped with the last). It reads `interrupt`
//      while the main thread is blocked and turns it into `process.kill(process.pid, 'SIGINT')`,
//      but only while a guarded evaluation is running; otherwise it hands the interrupt to the
//      main thread (an async evaluation to abandon, or a line to clear).
//   3. A SIGINT outside a `breakOnSigint` window would reach `process.on('SIGINT')` (the bin's
//      shutdown) or Node's default (exit). A shared word (phase + session slot) therefore says
//      when a signal is safe, and it is only RUNNING strictly inside an outer guard script that
//      itself runs with `breakOnSigint`: the worker commits by compare-and-swap RUNNING ->
//      SIGNALLED, and if the user code finished first, the main thread waits for the committed
//      signal inside the guard's window (the innermost watchdog takes it) before leaving.
// On Windows there are no signals (`process.kill(…, 'SIGINT')` kills the process), so there the
// worker only forwards. Everywhere, a time limit (the eval command's) backs Ctrl-C up: a device
// that shares its process with the broker (the app's demo fleet) blocks the broker too, and
// then no interrupt can reach it at all.
import { createRequire } from 'node:module';
import vm from 'node:vm';
import { Worker } from 'node:worker_threads';
import { checkJsonShape, MAX_JSON_DEPTH, OPTIONS_JSON } from '../../../protocol/src';

const IDLE = 0;
const RUNNING = 1;
const SIGNALLED = 2;
/** The shared word holds `slot << 2 | phase`, so the worker tests phase and session in one CAS. */
const word = (slot: number, phase: number) => (slot << 2) | phase;

/** Waiting for a committed signal that was already consumed elsewhere must end. */
const ABSORB_LIMIT_MS = 2_000;

export const SIGNALS = process.platform !== 'win32';

export function isInterrupted(e: unknown): boolean {
  return typeof e === 'object' && e !== null && (e as { code?: unknown }).code === 'ERR_SCRIPT_EXECUTION_INTERRUPTED';
}

export interface Guard {
  /** The shared state the worker reads. */
  readonly state: SharedArrayBuffer;
  /**
   * Runs `script` in `context` so that an interrupt for session `slot` stops it. Throws vm's
   * ERR_SCRIPT_EXECUTION_INTERRUPTED error when interrupted.
   */
  run(slot: number, script: vm.Script, context: vm.Context, timeoutMs?: number): unknown;
}

export function createGuard(): Guard {
  const state = new SharedArrayBuffer(4);
  const cell = new Int32Array(state);
  let pending: (() => void) | undefined;
  const guardContext = vm.createContext({ guarded: () => pending?.() });
  const outer = new vm.Script('guarded()', { filename: 'mqb-terminal-guard' });
  const absorber = new vm.Script('for (;;) {}', { filename: 'mqb-terminal-guard' });

  return {
    state,
    run(slot, script, context, timeoutMs) {
      const opts: vm.RunningScriptOptions = { breakOnSigint: SIGNALS, displayErrors: false, ...(timeoutMs ? { timeout: timeoutMs } : {}) };
      let done = false;
      let threw = false;
      let result: unknown;
      let error: unknown;
      pending = () => {
        Atomics.store(cell, 0, word(slot, RUNNING));
        try {
          result = script.runInContext(context, opts);
        } catch (e) {
          threw = true;
          error = e;
        }
        done = true;
        if (Atomics.compareExchange(cell, 0, word(slot, RUNNING), IDLE) !== word(slot, RUNNING)) {
          // The worker committed to a SIGINT. If it did not stop the user code, it is still on its
          // way: take it here, inside the guard's window, never outside one.
          if (!(threw && isInterrupted(error))) {
            try {
              absorber.runInContext(guardContext, { breakOnSigint: true, timeout: ABSORB_LIMIT_MS });
            } catch {
              // Interrupted (the signal arrived) or timed out (it was consumed elsewhere).
            }
          }
          Atomics.store(cell, 0, IDLE);
        }
      };
      try {
        outer.runInContext(guardContext, { breakOnSigint: SIGNALS });
      } catch (e) {
        // The signal landed in the guard itself, between our statements.
        if (!isInterrupted(e)) throw e;
        if (!done) {
          threw = true;
          error = e;
        }
      } finally {
        pending = undefined;
        Atomics.store(cell, 0, IDLE);
      }
      if (threw) throw error;
      return result;
    },
  };
}

export interface InterruptWorkerOptions {
  url: string;
  username?: string;
  password?: string;
  ca?: string;
  clientId: string;
  /** `P/mqb/term/+/ctl` */
  filter: string;
  state: SharedArrayBuffer;
  /** An interrupt the worker could not deliver as a signal (nothing synchronous was running). */
  onInterrupt(sid: string): void;
  onError(message: string): void;
}

export interface InterruptWorker {
  /** Resolves once the worker's subscription is in place; rejects if it cannot connect. */
  ready: Promise<void>;
  add(sid: string, slot: number): void;
  remove(sid: string): void;
  stop(): Promise<void>;
}

export interface ControlLimit {
  bytes: number;
  values: number;
  depth: number;
}

/** What decodeTermControl allows a `ctl` message (protocol/src/terminal.ts). */
const CONTROL_LIMIT: ControlLimit = { bytes: OPTIONS_JSON.bytes, values: OPTIONS_JSON.values, depth: MAX_JSON_DEPTH };

/**
 * The worker's reading of a `ctl` message: true only for an `interrupt` that decodeTermControl
 * accepts, and a message over the control cap is refused before it is decoded or parsed (the
 * main thread, reading the same message, tells the host why). The worker cannot load the
 * protocol's TypeScript, so it gets this function's source text: it uses only its arguments
 * and globals, and a test holds its verdicts to decodeTermControl's.
 */
export function isInterruptControl(payload: Uint8Array, limit: ControlLimit, shape: typeof checkJsonShape): boolean {
  if (payload.length > limit.bytes || shape(payload, limit.values, limit.depth) !== undefined) return false;
  let msg: unknown;
  try {
    msg = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(payload));
  } catch {
    return false;
  }
  return typeof msg === 'object' && msg !== null && !Array.isArray(msg) && (msg as { op?: unknown }).op === 'interrupt';
}

/**
 * The worker is plain JavaScript handed over as source: the device runtime runs from
 * TypeScript (tsx, vitest) and from the app's bundle, and neither gives a worker file path that
 * works in both. It loads the same mqtt.js the runtime uses, by resolved path.
 */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const checkJsonShape = ${checkJsonShape.toString()};
const isInterruptControl = ${isInterruptControl.toString()};
const mqtt = require(workerData.mqttPath);
const cell = new Int32Array(workerData.state);
const slots = new Map();
const client = mqtt.connect(workerData.url, workerData.options);
let announced = false;
client.on('connect', () => {
  client.subscribe(workerData.filter, { qos: 1 }, (err, granted) => {
    const refused = !err && granted && granted.some((g) => g.qos === 128);
    if (!announced) parentPort.postMessage({ op: 'ready', error: err ? err.message : refused ? 'subscription refused' : undefined });
    announced = true;
  });
});
client.on('error', (e) => { if (!announced) { announced = true; parentPort.postMessage({ op: 'ready', error: e.message }); } });
client.on('message', (topic, payload) => {
  const m = /\\/mqb\\/term\\/([A-Za-z0-9_-]{1,32})\\/ctl$/.exec(topic);
  if (!m) return;
  if (!isInterruptControl(payload, workerData.limit, checkJsonShape)) return;
  const slot = slots.get(m[1]);
  if (workerData.signals && slot !== undefined) {
    const running = (slot << 2) | ${RUNNING};
    if (Atomics.compareExchange(cell, 0, running, (slot << 2) | ${SIGNALLED}) === running) {
      process.kill(process.pid, 'SIGINT');
      return;
    }
  }
  parentPort.postMessage({ op: 'interrupt', sid: m[1] });
});
parentPort.on('message', (m) => {
  if (m.op === 'add') slots.set(m.sid, m.slot);
  else if (m.op === 'remove') slots.delete(m.sid);
  else if (m.op === 'stop') client.end(true, () => parentPort.postMessage({ op: 'stopped' }));
});
`;

export function startInterruptWorker(o: InterruptWorkerOptions): InterruptWorker {
  const mqttPath = createRequire(import.meta.url).resolve('mqtt');
  const options: Record<string, unknown> = {
    clientId: o.clientId,
    clean: true,
    protocolVersion: 4,
    reconnectPeriod: 1000,
    connectTimeout: 10_000,
    ...(o.username !== undefined ? { username: o.username } : {}),
    ...(o.password !== undefined ? { password: o.password } : {}),
    ...(o.ca !== undefined ? { ca: o.ca } : {}),
  };
  const worker = new Worker(WORKER_SOURCE, {
    eval: true,
    workerData: { mqttPath, url: o.url, options, filter: o.filter, state: o.state, signals: SIGNALS, limit: CONTROL_LIMIT },
  });
  // A device must be able to stop while its helper still connects.
  worker.unref();
  let settle!: { resolve: () => void; reject: (e: Error) => void };
  const ready = new Promise<void>((resolve, reject) => (settle = { resolve, reject }));
  ready.catch(() => undefined);
  let stopped: (() => void) | undefined;
  worker.on('message', (m: unknown) => {
    if (typeof m !== 'object' || m === null) return;
    const msg = m as { op?: unknown; sid?: unknown; error?: unknown };
    if (msg.op === 'ready') {
      if (typeof msg.error === 'string') settle.reject(new Error(msg.error));
      else settle.resolve();
    } else if (msg.op === 'interrupt' && typeof msg.sid === 'string') o.onInterrupt(msg.sid);
    else if (msg.op === 'stopped') stopped?.();
  });
  worker.on('error', (e) => {
    settle.reject(e);
    o.onError(e.message);
  });
  worker.on('exit', () => stopped?.());
  return {
    ready,
    add: (sid, slot) => worker.postMessage({ op: 'add', sid, slot }),
    remove: (sid) => worker.postMessage({ op: 'remove', sid }),
    async stop() {
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, 2_000);
        stopped = () => {
          clearTimeout(t);
          resolve();
        };
        worker.postMessage({ op: 'stop' });
      });
      await worker.terminate();
    },
  };
}
