// The board's interpreter: one persistent CPython process per simulated board, running our
// helper `python/mpboard.py`. Frames on its stdin/stdout are a 4-byte big-endian length plus
// UTF-8 JSON. Requests are strictly one at a time, like the board's single interpreter; events
// (log lines, watchdog feeds, resets) may arrive while a request is running.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const HELPER = fileURLToPath(new URL('./python/mpboard.py', import.meta.url));

export type EvalResult =
  | { ok: true; out: Uint8Array }
  /** A ValueError: the original replies `MQRepl protocol error <cmd>: <msg>`. */
  | { ok: false; kind: 'value'; msg: string }
  /** Any other exception: MicroPython-style traceback text. */
  | { ok: false; kind: 'exc'; text: string; short: string };

export type PathResult = { ok: true; host: string } | Exclude<EvalResult, { ok: true }>;

export type PyEvent =
  | { event: 'log'; level: string; name: string; text: string }
  | { event: 'reset'; how: 'hard' | 'soft' | 'delayed'; normal: boolean | null }
  | { event: 'feed' }
  | { event: 'normalboot'; normal: boolean };

export interface PythonEnv {
  root: string;
  prefix: string;
  bootEpochMs: number;
  safemode: boolean;
  resetCause: number;
  /** The booted firmware's build (`os.uname().version` starts with it) and release (`1.12.0`). */
  firmware: { version: string; release: string };
}

/** Thrown to pending requests when the interpreter goes away (reset, stop, crash). */
export class InterpreterGone extends Error {}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null;
const str = (v: unknown): string => (typeof v === 'string' ? v : '');

function parseEvent(m: Record<string, unknown>): PyEvent | undefined {
  switch (m.event) {
    case 'log':
      return { event: 'log', level: str(m.level), name: str(m.name), text: str(m.text) };
    case 'reset': {
      const how = m.how === 'soft' || m.how === 'delayed' ? m.how : 'hard';
      return { event: 'reset', how, normal: typeof m.normal === 'boolean' ? m.normal : null };
    }
    case 'feed':
      return { event: 'feed' };
    case 'normalboot':
      return { event: 'normalboot', normal: m.normal === true };
    default:
      return undefined;
  }
}

function parseError(m: Record<string, unknown>): Exclude<EvalResult, { ok: true }> {
  if (m.kind === 'value') return { ok: false, kind: 'value', msg: str(m.msg) };
  return { ok: false, kind: 'exc', text: str(m.text), short: str(m.short) };
}

export class PythonHost {
  private readonly child: ChildProcessWithoutNullStreams;
  private buf = Buffer.alloc(0);
  private pending: { resolve: (m: Record<string, unknown>) => void; reject: (e: Error) => void } | undefined;
  private chain: Promise<unknown> = Promise.resolve();
  private gone = false;
  private readonly ready: Promise<void>;
  /** What the interpreter wrote outside captured output: the board's serial console. */
  console = '';

  constructor(env: PythonEnv, private readonly onEvent: (e: PyEvent) => void) {
    // -B: the helper imports its sibling modules; no __pycache__ beside them (a packaged app's
    // folder may be read-only, and the source tree stays clean).
    this.child = spawn('python3', ['-B', '-u', HELPER], {
      stdio: ['pipe', 'pipe', 'pipe'],
      env: {
        ...process.env,
        MQB_ROOT: env.root,
        MQB_PREFIX: env.prefix,
        MQB_BOOT_EPOCH_MS: String(env.bootEpochMs),
        MQB_SAFEMODE: env.safemode ? '1' : '0',
        MQB_RESET_CAUSE: String(env.resetCause),
        MQB_FW_VERSION: env.firmware.version,
        MQB_FW_RELEASE: env.firmware.release,
        PYTHONDONTWRITEBYTECODE: '1',
      },
    });
    let readyResolve!: () => void;
    let readyReject!: (e: Error) => void;
    this.ready = new Promise((res, rej) => ((readyResolve = res), (readyReject = rej)));
    this.child.stdout.on('data', (d: Buffer) => this.onData(d, readyResolve));
    // A write to an interpreter that just died fails with EPIPE; its exit fails what is pending.
    this.child.stdin.on('error', () => undefined);
    // Keep only the tail of the console: it is for diagnostics, never sent over MQTT.
    this.child.stderr.on('data', (d: Buffer) => (this.console = (this.console + d.toString()).slice(-8192)));
    const die = (why: string) => {
      if (this.gone) return;
      this.gone = true;
      const err = new InterpreterGone(why);
      readyReject(err);
      this.pending?.reject(err);
      this.pending = undefined;
    };
    this.child.on('exit', (code, sig) => die(`python exited (${sig ?? code}): ${this.console.slice(-500)}`));
    this.child.on('error', (e) => die(`python3 could not start: ${e.message}`));
  }

  whenReady(): Promise<void> {
    return this.ready;
  }

  private onData(d: Buffer, readyResolve: () => void): void {
    this.buf = Buffer.concat([this.buf, d]);
    while (this.buf.length >= 4) {
      const n = this.buf.readUInt32BE(0);
      if (this.buf.length < 4 + n) return;
      const raw = this.buf.subarray(4, 4 + n).toString('utf8');
      this.buf = this.buf.subarray(4 + n);
      let msg: unknown;
      try {
        msg = JSON.parse(raw);
      } catch {
        continue; // a corrupt frame cannot come from our helper; ignore rather than crash
      }
      if (!isRecord(msg)) continue;
      if (msg.event === 'ready') readyResolve();
      else if (typeof msg.event === 'string') {
        const ev = parseEvent(msg);
        if (ev) this.onEvent(ev);
      } else {
        const p = this.pending;
        this.pending = undefined;
        p?.resolve(msg);
      }
    }
  }

  private request(req: Record<string, string>): Promise<Record<string, unknown>> {
    // Serialize: the board has one interpreter and handles one command at a time.
    const run = async () => {
      await this.ready;
      if (this.gone) throw new InterpreterGone('interpreter gone');
      return new Promise<Record<string, unknown>>((resolve, reject) => {
        this.pending = { resolve, reject };
        const body = Buffer.from(JSON.stringify(req), 'utf8');
        const head = Buffer.alloc(4);
        head.writeUInt32BE(body.length);
        this.child.stdin.write(Buffer.concat([head, body]));
      });
    };
    const p = this.chain.then(run, run);
    this.chain = p.catch(() => undefined);
    return p;
  }

  async eval(src: string): Promise<EvalResult> {
    const m = await this.request({ op: 'eval', src });
    if (m.ok === true) return { ok: true, out: new Uint8Array(Buffer.from(str(m.out), 'base64')) };
    return parseError(m);
  }

  /** The watchdog's all-OK happened: `watchdog.first` reads None from now on, as on a board. */
  async settled(): Promise<void> {
    await this.request({ op: 'settled' });
  }

  /** Resolves a board path (relative to the interpreter's cwd) to a host path inside the root. */
  async hostPath(path: string): Promise<PathResult> {
    const m = await this.request({ op: 'path', path });
    if (m.ok === true) return { ok: true, host: str(m.host) };
    return parseError(m);
  }

  kill(): void {
    if (!this.gone) this.child.kill('SIGKILL');
  }

  exited(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return Promise.resolve();
    return new Promise((r) => this.child.once('exit', () => r()));
  }
}
