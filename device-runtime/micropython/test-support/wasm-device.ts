// Runs the MicroPython package on the real MicroPython interpreter (the WebAssembly port from
// npm) under Node: the board's socket is a small JS module registered into the interpreter
// (`mqb_net`, read by stream_js.py) that owns a real TCP connection to the broker, and the
// board's flash is the port's in-memory filesystem, loaded from a host folder at every boot and
// written back at every reset, as flash outlives a reset. A reset starts a fresh interpreter.
// The port keeps its state in globals, so one process runs one device at a time.
import { readdirSync, readFileSync, mkdirSync, writeFileSync, rmSync, statSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadMicroPython, type MicroPython } from '@micropython/micropython-webassembly-pyscript';

const PACKAGE_DIR = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
/** Where the device's files live inside the interpreter (the board's flash). */
export const FLASH = '/flash';
/** The framework files a board holds in /lib (and a copy in /safemode). */
export const FRAMEWORK = ['mqtt.py', 'wire.py', 'files.py', 'mqlog.py', 'crashlog.py', 'slots.py', 'device.py', 'term.py', 'runner.py', 'stream_js.py', 'board_unix.py'];

export interface WasmDeviceOptions {
  url: string;
  prefix: string;
  /** Host folder holding the device's flash between boots. */
  root: string;
  /** Extra config.json entries (modules, watchdog, ...), written at the first boot. */
  config?: Record<string, unknown>;
  /** Every log line the device prints, as it prints it. */
  echo?: (line: string) => void;
}

export interface WasmDevice {
  /** How each boot ended so far (`soft`, `crash`, ...), oldest first. */
  readonly boots: string[];
  /** Resolves once the device has booted `n` times in total. */
  booted(n: number): Promise<void>;
  /** Runs Python in the running interpreter and returns its value (JS-converted). */
  py(code: string): unknown;
  /** Clean shutdown: the device publishes its offline status and disconnects. */
  stop(): Promise<void>;
  /** Power loss: sockets cut, nothing more runs; the broker publishes the Last Will. */
  kill(): void;
}

/** Copies a host folder into the interpreter's filesystem. */
function load(mp: MicroPython, host: string, dir: string): void {
  for (const name of readdirSync(host)) {
    const h = path.join(host, name);
    const d = `${dir}/${name}`;
    if (statSync(h).isDirectory()) {
      mp.FS.mkdir(d);
      load(mp, h, d);
    } else mp.FS.writeFile(d, readFileSync(h));
  }
}

/** Writes the interpreter's filesystem back to the host folder (replacing what was there). */
function save(mp: MicroPython, dir: string, host: string): void {
  rmSync(host, { recursive: true, force: true });
  mkdirSync(host, { recursive: true });
  for (const name of mp.FS.readdir(dir)) {
    if (name === '.' || name === '..') continue;
    const d = `${dir}/${name}`;
    const h = path.join(host, name);
    if (mp.FS.isDir(mp.FS.stat(d).mode)) save(mp, d, h);
    else writeFileSync(h, mp.FS.readFile(d));
  }
}

interface Conn {
  sock: net.Socket;
  chunks: Buffer[];
  ended: boolean;
  wake?: () => void;
}

/** `mqb_net`: the board's TCP stack, bytes as hex strings (see stream_js.py). */
function netModule(isDead: () => boolean) {
  const conns = new Map<number, Conn>();
  let next = 1;
  const never = new Promise<never>(() => {});
  return {
    conns,
    module: {
      connect(host: string, port: number): Promise<number> {
        if (isDead()) return never;
        return new Promise((resolve, reject) => {
          const sock = net.connect({ host, port });
          sock.setNoDelay(true);
          const id = next++;
          const c: Conn = { sock, chunks: [], ended: false };
          const wake = () => {
            const w = c.wake;
            c.wake = undefined;
            w?.();
          };
          sock.on('data', (d: Buffer) => {
            c.chunks.push(d);
            wake();
          });
          sock.on('close', () => {
            c.ended = true;
            wake();
          });
          sock.on('error', (e) => {
            if (!conns.has(id)) reject(e);
          });
          sock.once('connect', () => {
            conns.set(id, c);
            resolve(id);
          });
        });
      },
      /** Up to `n` buffered bytes now: hex, '' when none has arrived yet, null at end of stream. */
      poll(id: number, n: number): string | null {
        const c = conns.get(id);
        if (!c || isDead()) return null;
        if (c.chunks.length === 0) return c.ended ? null : '';
        const out: Buffer[] = [];
        let left = n;
        while (left > 0 && c.chunks.length > 0) {
          const first = c.chunks[0]!;
          if (first.length <= left) {
            out.push(first);
            c.chunks.shift();
            left -= first.length;
          } else {
            out.push(first.subarray(0, left));
            c.chunks[0] = first.subarray(left);
            left = 0;
          }
        }
        return Buffer.concat(out).toString('hex');
      },
      /** Resolves once there is something to poll (data, or the end of the stream). */
      wait(id: number): Promise<void> {
        const c = conns.get(id);
        if (isDead()) return never;
        if (!c || c.chunks.length > 0 || c.ended) return Promise.resolve();
        return new Promise((resolve) => {
          c.wake = resolve;
        });
      },
      write(id: number, hex: string): void {
        const c = conns.get(id);
        if (c && !isDead()) c.sock.write(Buffer.from(hex, 'hex'));
      },
      drain(id: number): Promise<void> | null {
        const c = conns.get(id);
        if (!c || !c.sock.writableNeedDrain) return null;
        return new Promise((resolve) => {
          c.sock.once('drain', resolve);
          c.sock.once('close', resolve);
        });
      },
      close(id: number): void {
        const c = conns.get(id);
        conns.delete(id);
        c?.sock.end();
        if (c) {
          c.ended = true;
          c.chunks = [];
          c.wake?.();
        }
      },
    },
  };
}

export async function startWasmDevice(opts: WasmDeviceOptions): Promise<WasmDevice> {
  const u = new URL(opts.url);
  const boots: string[] = [];
  const waiters: Array<() => void> = [];
  let current: MicroPython | undefined;
  let dead = false;
  let stopping: Promise<void> | undefined;
  let conns: Map<number, Conn> = new Map();
  let finished!: () => void;
  const ended = new Promise<void>((r) => (finished = r));

  const config = { prefix: opts.prefix, ...opts.config };
  mkdirSync(opts.root, { recursive: true });

  const bootOnce = async (): Promise<string> => {
    const mp = await loadMicroPython({
      linebuffer: true,
      stdout: (line: string) => opts.echo?.(line),
      stderr: (line: string) => opts.echo?.(line),
    });
    current = mp;
    const n = netModule(() => dead || mp !== current);
    conns = n.conns;
    mp.registerJsModule('mqb_net', n.module);
    mp.FS.mkdir(FLASH);
    load(mp, opts.root, FLASH);
    // First boot of this flash: install the framework as mpremote would, plus its safe copy.
    for (const dir of ['lib', 'safemode']) {
      const d = `${FLASH}/${dir}`;
      if (!mp.FS.analyzePath(d).exists) mp.FS.mkdir(d);
      for (const f of FRAMEWORK) {
        if (!mp.FS.analyzePath(`${d}/${f}`).exists) mp.FS.writeFile(`${d}/${f}`, readFileSync(path.join(PACKAGE_DIR, f)));
      }
    }
    if (!mp.FS.analyzePath(`${FLASH}/bootmode.py`).exists) mp.FS.writeFile(`${FLASH}/bootmode.py`, readFileSync(path.join(PACKAGE_DIR, 'bootmode.py')));
    // Written at the first boot only: afterwards it is the device's file, as on a board.
    if (!mp.FS.analyzePath(`${FLASH}/config.json`).exists) mp.FS.writeFile(`${FLASH}/config.json`, JSON.stringify(config));
    // What boot.py does on a board: pick the framework copy from RTC memory, then run it.
    await mp.runPythonAsync(`
import sys, json
sys.path.insert(0, ${JSON.stringify(FLASH)})
import bootmode
try:
    with open(${JSON.stringify(FLASH + '/.mqboard/rtc.json')}) as f:
        _rtc = json.load(f)
except Exception:
    _rtc = {}
_mode = bootmode.decide(_rtc)
sys.path.insert(0, bootmode.framework_dir(${JSON.stringify(FLASH)}, _mode))
sys.path.append(${JSON.stringify(FLASH + '/lib')})
import runner, stream_js
_cfg = runner.load_config(${JSON.stringify(FLASH)})
_cfg["root"] = ${JSON.stringify(FLASH)}
_cfg["mode"] = _mode
_how = await runner.start(_cfg, "unix", stream_js.opener(${JSON.stringify(u.hostname)}, ${Number(u.port) || 1883}), print)
`);
    // A top-level await statement has no value: the result is read from the global it set.
    const how = String(mp.globals.get('_how'));
    // Flash outlives the reset; RAM (this interpreter) does not.
    save(mp, FLASH, opts.root);
    for (const c of conns.values()) c.sock.destroy();
    // The port keeps its state in globals: let the old interpreter's last callbacks (reads
    // ending on the closed sockets) run before the next one is loaded over it.
    await new Promise((resolve) => setTimeout(resolve, 20));
    return how;
  };

  const loop = async () => {
    try {
      for (;;) {
        if (dead) return;
        const how = await bootOnce();
        boots.push(how);
        waiters.splice(0).forEach((w) => w());
        if (how === 'shutdown' || dead) return;
      }
    } finally {
      finished();
    }
  };
  void loop();

  return {
    boots,
    booted(n) {
      return new Promise((resolve) => {
        const check = () => (boots.length + 1 >= n ? resolve() : waiters.push(check));
        check();
      });
    },
    py(code) {
      if (!current) throw new Error('no interpreter running');
      return current.runPython(code);
    },
    stop() {
      stopping ??= (async () => {
        if (!dead) current?.runPython('import runner\nrunner.stop()');
        await ended;
      })();
      return stopping;
    },
    kill() {
      dead = true;
      for (const c of conns.values()) c.sock.destroy();
      finished();
    },
  };
}
