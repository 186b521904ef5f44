// `eval`: JavaScript in one persistent `node:vm` context per device boot, the counterpart of the
// original's Python globals. Like the original, the source is first tried as an expression
// (reply: its inspected value), then as statements (reply: the console output they printed).
// Top-level `await` works in both forms. The context is a convenience boundary, not a
// security one: whoever may command the device may run code on it, as on a real board.
import util from 'node:util';
import vm from 'node:vm';
import { userStack } from '../user-stack';

export interface EvalResult {
  ok: boolean;
  /** The reply text: inspected value or captured output, or the error's stack. */
  text: string;
}

export interface Evaluator {
  run(source: string): Promise<EvalResult>;
  /** The context's global object, for the runtime to expose more names (e.g. `watchdog`). */
  globals: Record<string, unknown>;
}

export interface EvalOptions {
  /** Limit for synchronous execution and for awaiting a returned promise. */
  timeoutMs: number;
  /** Largest reply, in bytes; output beyond it is cut with a marker. */
  maxReply: number;
  /** Where console output goes when no eval is capturing it (timers, late promises). */
  stray: (line: string) => void;
  globals?: Record<string, unknown>;
  /** The device's root on the host: stack frames in its files are shown by device path. */
  root?: string;
}

const INSPECT: util.InspectOptions = { depth: 4, maxArrayLength: 200, maxStringLength: 16_384, breakLength: 100 };

export function createEvaluator(o: EvalOptions): Evaluator {
  let capture: string[] | undefined;
  let captured = 0;
  const out = (...args: unknown[]) => {
    const line = args.map((a) => (typeof a === 'string' ? a : util.inspect(a, INSPECT))).join(' ');
    if (!capture) return o.stray(line);
    if (captured < o.maxReply) capture.push(line);
    captured += line.length + 1;
  };
  const consoleProxy = { log: out, info: out, warn: out, error: out, debug: out, dir: out };
  const sandbox: Record<string, unknown> = {
    console: consoleProxy,
    print: out,
    setTimeout,
    clearTimeout,
    setInterval,
    clearInterval,
    setImmediate,
    clearImmediate,
    queueMicrotask,
    Buffer,
    TextEncoder,
    TextDecoder,
    URL,
    structuredClone,
    ...o.globals,
  };
  const context = vm.createContext(sandbox, { name: 'mqboard-eval' });

  const compile = (source: string): { script: vm.Script; async: boolean; expression: boolean } => {
    // Expression first (as the original compiles with mode "eval"), then statements; each again
    // wrapped in an async function when plain compilation fails, so `await` works at top level.
    const attempts: Array<{ code: string; async: boolean; expression: boolean }> = [
      { code: `(${source}\n)`, async: false, expression: true },
      { code: source, async: false, expression: false },
      { code: `(async () => (${source}\n))()`, async: true, expression: true },
      { code: `(async () => {${source}\n})()`, async: true, expression: false },
    ];
    let first: unknown;
    for (const a of attempts) {
      try {
        return { script: new vm.Script(a.code, { filename: 'eval' }), async: a.async, expression: a.expression };
      } catch (e) {
        first ??= e;
      }
    }
    throw first;
  };

  const cut = (s: string): string => {
    const b = Buffer.from(s);
    if (b.length <= o.maxReply) return s;
    return b.subarray(0, o.maxReply - 16).toString('utf8').replace(/\uFFFD$/, '') + '\n...(truncated)';
  };

  const run = async (source: string): Promise<EvalResult> => {
    capture = [];
    captured = 0;
    try {
      const c = compile(source);
      let value: unknown = c.script.runInContext(context, { timeout: o.timeoutMs, displayErrors: false });
      if (c.async || isThenable(value)) value = await withTimeout(value as PromiseLike<unknown>, o.timeoutMs);
      const printed = capture.length ? capture.join('\n') + '\n' : '';
      if (c.expression) return { ok: true, text: cut(printed + util.inspect(value, INSPECT)) };
      // Statements reply what they printed and, like a REPL, the value of the last expression
      // statement (`let q = 3; q * 7` is 21), when there is one.
      return { ok: true, text: cut(printed + (value === undefined ? '' : util.inspect(value, INSPECT))) };
    } catch (e) {
      return { ok: false, text: cut(describe(e, o.root)) };
    } finally {
      capture = undefined;
    }
  };

  return { run, globals: sandbox };
}

function isThenable(v: unknown): v is PromiseLike<unknown> {
  return typeof v === 'object' && v !== null && typeof (v as { then?: unknown }).then === 'function';
}

function withTimeout<T>(p: PromiseLike<T>, ms: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`eval: promise not settled within ${ms} ms`)), ms);
    p.then(
      (v) => (clearTimeout(t), resolve(v)),
      (e: unknown) => (clearTimeout(t), reject(e)),
    );
  });
}

/** Errors from the vm context come from another realm, so `instanceof Error` is false. */
function describe(e: unknown, root: string | undefined): string {
  if (typeof e === 'object' && e !== null) {
    // Node's own words ("A dynamic import callback was not specified") name no way forward.
    if ((e as { code?: unknown }).code === 'ERR_VM_DYNAMIC_IMPORT_CALLBACK_MISSING') {
      return "Error: import() is not available in eval; the device's code comes in as app modules (OTA bundle) and is loaded at boot";
    }
    const stack = (e as { stack?: unknown }).stack;
    if (typeof stack === 'string') return userStack(stack, root);
    const msg = (e as { message?: unknown }).message;
    if (typeof msg === 'string') return msg;
  }
  return `Uncaught ${util.inspect(e, INSPECT)}`;
}
