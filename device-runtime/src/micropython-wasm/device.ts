// Runs the MicroPython package on the real MicroPython interpreter (the WebAssembly port from
// npm) under Node, as a board would run it: each boot in a worker thread of its own with a
// fresh interpreter (wasm-worker.mjs), the board's flash kept in a host folder across resets.
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';

const PACKAGE_DIR = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const WORKER = fileURLToPath(new URL('./wasm-worker.mjs', import.meta.url));
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
  /** Every line the device prints, as it prints it. */
  echo?: (line: string) => void;
}

export interface WasmDevice {
  /** How each boot ended so far (`soft`, `crash`, ...), oldest first. */
  readonly boots: string[];
  /** Clean shutdown: the device publishes its offline status and disconnects. */
  stop(): Promise<void>;
  /** Power loss: the worker ends at once, its sockets with it; the broker publishes the Last Will. */
  kill(): Promise<void>;
}

type FromWorker = { kind: 'line'; line: string } | { kind: 'done'; how: string };

export async function startWasmDevice(opts: WasmDeviceOptions): Promise<WasmDevice> {
  const boots: string[] = [];
  let worker: Worker | undefined;
  let dead = false;
  let stopping: Promise<void> | undefined;
  let finished!: () => void;
  const ended = new Promise<void>((r) => (finished = r));
  mkdirSync(opts.root, { recursive: true });

  const bootOnce = () =>
    new Promise<string>((resolve, reject) => {
      const w = new Worker(WORKER, {
        workerData: { url: opts.url, root: opts.root, config: { prefix: opts.prefix, ...opts.config }, packageDir: PACKAGE_DIR, framework: FRAMEWORK, flash: FLASH },
      });
      worker = w;
      let how: string | undefined;
      w.on('message', (m: FromWorker) => {
        if (m.kind === 'line') opts.echo?.(m.line);
        else {
          // Its interpreter may still hold timers: the worker is ended, as a reset ends a board's RAM.
          how = m.how;
          void w.terminate();
        }
      });
      w.on('error', reject);
      w.on('exit', () => (how !== undefined ? resolve(how) : reject(new Error('the device worker ended without finishing its boot'))));
    });

  const loop = async () => {
    try {
      while (!dead) {
        const how = await bootOnce();
        boots.push(how);
        if (how === 'shutdown') return;
      }
    } catch (e) {
      if (!dead) opts.echo?.(`device harness: ${String(e)}`);
    } finally {
      finished();
    }
  };
  void loop();

  return {
    boots,
    stop() {
      stopping ??= (async () => {
        worker?.postMessage('stop');
        await ended;
      })();
      return stopping;
    },
    async kill() {
      dead = true;
      await worker?.terminate();
      await ended;
    },
  };
}
