// One interactive REPL session: Node's own `repl` module (line editing, history, multi-line
// input, tab completion, `.editor`) over a pair of in-memory streams, evaluating in the device's
// persistent eval context, the same globals the `eval` command sees.
import repl from 'node:repl';
import { PassThrough, Writable } from 'node:stream';
import util from 'node:util';
import vm from 'node:vm';
import { withUserStack } from '../user-stack';
import { isInterrupted, type Guard } from './interrupt';

export interface ReplOptions {
  /** The device's eval context (its global object, already contextified). */
  context: vm.Context;
  guard: Guard;
  /** This session's slot in the guard's shared state. */
  slot: number;
  cols: number;
  rows: number;
  /** Backstop time limit for one synchronous evaluation (see TerminalServerOptions). */
  timeoutMs?: number;
  /** Terminal output, already UTF-8. */
  write(data: Uint8Array): void;
  /** Sends buffered output now: the event loop may not turn again until the evaluation ends. */
  flush(): void;
  /** The REPL ended by itself: Ctrl-D, `.exit`, Ctrl-C twice. */
  onExit(): void;
}

export interface ReplSession {
  input(data: Uint8Array): void;
  resize(cols: number, rows: number): void;
  /** Ctrl-C that no signal delivered: abandons an awaited evaluation, or clears the line. */
  interrupt(): void;
  close(): void;
}

/** Deep enough to be useful on a 80-column terminal, bounded so a huge value cannot flood it. */
const INSPECT: util.InspectOptions = { depth: 3, maxArrayLength: 100, maxStringLength: 10_000, breakLength: 100, colors: true };

/** V8 messages for input that only needs more lines (Node's REPL decides the same with acorn). */
const INCOMPLETE = /^(Unexpected end of input|Unterminated template literal|missing \) after argument list)$/;

type Compiled = { script: vm.Script; async: boolean };

function compile(code: string): Compiled {
  const source = code.replace(/\n$/, '');
  const script = (text: string) => new vm.Script(text, { filename: 'repl' });
  // Like Node's REPL: a line that looks like a block is first tried as an object literal.
  if (/^\s*\{/.test(source) && /\}\s*$/.test(source)) {
    try {
      return { script: script(`(${source}\n)`), async: false };
    } catch {
      // Not an object literal: a block after all.
    }
  }
  try {
    return { script: script(source), async: false };
  } catch (e) {
    if (!/await is only valid/.test(messageOf(e))) throw e;
    // Top-level await, as the `eval` command offers it: an async wrapper. Declarations inside
    // it stay local to that evaluation (Node's REPL rewrites them; this REPL does not).
    for (const wrapped of [`(async () => (${source}\n))()`, `(async () => {${source}\n})()`]) {
      try {
        return { script: script(wrapped), async: true };
      } catch {
        // Try the statement form next.
      }
    }
    throw e;
  }
}

function messageOf(e: unknown): string {
  return typeof e === 'object' && e !== null && typeof (e as { message?: unknown }).message === 'string' ? (e as { message: string }).message : String(e);
}

function isThenable(v: unknown): v is PromiseLike<unknown> {
  return typeof v === 'object' && v !== null && typeof (v as { then?: unknown }).then === 'function';
}

/**
 * What an interrupted evaluation yields: not an error (the REPL would print "Uncaught" and an
 * inspected error object) but a value the writer shows as one yellow line.
 */
const INTERRUPTED: unique symbol = Symbol('interrupted');
const INTERRUPTED_TEXT = '\x1b[33m^C interrupted\x1b[39m';

export function openRepl(o: ReplOptions): ReplSession {
  const input = new PassThrough();
  let cols = o.cols;
  let rows = o.rows;
  const output = new Writable({
    write(chunk: Buffer | string, _enc, cb) {
      // Cooked like a serial console (and the original's eval output): the REPL ends lines
      // with a bare LF, a terminal needs CR LF.
      o.write(Buffer.from((typeof chunk === 'string' ? chunk : chunk.toString('utf8')).replace(/\r?\n/g, '\r\n')));
      cb();
    },
  });
  // readline reads the terminal size from its output stream and re-renders on 'resize'.
  Object.defineProperties(output, {
    columns: { get: () => cols, enumerable: true },
    rows: { get: () => rows, enumerable: true },
  });

  /** The await of the current asynchronous evaluation, abandoned on Ctrl-C. */
  let abandon: (() => void) | undefined;
  const ctx = o.context as Record<string, unknown>;

  // Console output of the evaluation goes to this terminal, not to the device log where the
  // eval command's stray output goes; the context's own console is put back afterwards.
  const termOut = (...args: unknown[]) => {
    output.write(args.map((a) => (typeof a === 'string' ? a : util.inspect(a, INSPECT))).join(' ') + '\n');
    // Printing from a synchronous loop streams as it goes (up to the window).
    o.flush();
  };
  const termConsole = { log: termOut, info: termOut, warn: termOut, error: termOut, debug: termOut, dir: termOut };
  const withTermConsole = <T>(f: () => T): { value: T; restore: () => void } => {
    const saved = { console: ctx.console, print: ctx.print };
    ctx.console = termConsole;
    ctx.print = termOut;
    const restore = () => {
      if (ctx.console === termConsole) ctx.console = saved.console;
      if (ctx.print === termOut) ctx.print = saved.print;
    };
    try {
      return { value: f(), restore };
    } catch (e) {
      restore();
      throw e;
    }
  };

  const evaluate: repl.REPLEval = (code, _context, _file, cb) => {
    let c: Compiled;
    try {
      c = compile(code);
    } catch (e) {
      if (INCOMPLETE.test(messageOf(e))) return cb(new repl.Recoverable(e instanceof Error ? e : new Error(messageOf(e))), undefined);
      return cb(e as Error, undefined);
    }
    let run: { value: unknown; restore: () => void };
    // The echoed line first: the user sees what is running, and a busy loop shows as one.
    o.flush();
    try {
      run = withTermConsole(() => o.guard.run(o.slot, c.script, o.context, o.timeoutMs));
    } catch (e) {
      if (isInterrupted(e)) return cb(null, INTERRUPTED);
      return cb(withUserStack(e as Error), undefined);
    }
    if (!c.async && !isThenable(run.value)) {
      run.restore();
      return cb(null, run.value);
    }
    let settled = false;
    const finish = (err: Error | null, value?: unknown) => {
      if (settled) return;
      settled = true;
      abandon = undefined;
      run.restore();
      cb(err, value);
    };
    abandon = () => finish(null, INTERRUPTED);
    (run.value as PromiseLike<unknown>).then(
      (v) => finish(null, v),
      (e: unknown) => finish(withUserStack(e as Error)),
    );
  };

  const server = repl.start({
    prompt: '\x1b[32m›\x1b[0m ',
    input,
    output,
    terminal: true,
    useColors: true,
    eval: evaluate,
    preview: false,
    writer: (v: unknown) => (v === INTERRUPTED ? INTERRUPTED_TEXT : util.inspect(v, INSPECT)),
  });
  // Evaluate and complete in the device's context, not a fresh one of the REPL's own.
  const useDeviceContext = () => ((server as { context: vm.Context }).context = o.context);
  useDeviceContext();
  server.on('reset', useDeviceContext);
  // `.save` and `.load` would read and write the host's filesystem outside the device's jail;
  // `.clear` would throw the device context away.
  const commands = server.commands as Record<string, unknown>;
  for (const c of ['save', 'load', 'clear']) delete commands[c];

  let closed = false;
  server.on('exit', () => {
    if (closed) return;
    closed = true;
    abandon?.();
    o.onExit();
  });

  return {
    input(data) {
      if (!closed) input.write(Buffer.from(data));
    },
    resize(c, r) {
      if (c === cols && r === rows) return;
      cols = c;
      rows = r;
      output.emit('resize');
    },
    interrupt() {
      if (closed) return;
      if (abandon) abandon();
      // Nothing running: what Ctrl-C means to readline (clear the line, or the exit hint).
      else input.write('\x03');
    },
    close() {
      if (closed) return;
      closed = true;
      abandon?.();
      server.close();
    },
  };
}
