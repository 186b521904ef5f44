// A board running the MicroPython package (device-runtime/micropython/) on the real MicroPython
// interpreter, the WebAssembly port from npm, under Node: an ESP32-style board for the demo
// fleet, the benchmarks and the package's tests. Each boot runs in a worker thread of its own
// with a fresh interpreter (worker.mjs), so a reset leaves RAM fresh while the flash (a host
// folder) stays, and a busy loop on the board blocks only its own thread.
//
// The board has a hardware watchdog as an ESP32 has (board-boot.ts): when it bites, this side
// boots again with the reset cause "watchdog", as the chip would.
import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Worker } from 'node:worker_threads';
import { startBoardBoot } from './board-boot';

/**
 * The package's .py files: next to this module's folder in the source tree, or copied beside
 * the bundle that inlines this module (`micropython/` next to it, as worker.mjs is).
 */
const PACKAGE_DIR = [new URL('./micropython/', import.meta.url), new URL('../../micropython/', import.meta.url)]
  .map((u) => fileURLToPath(u))
  .find((d) => existsSync(path.join(d, 'device.py'))) ?? fileURLToPath(new URL('../../micropython/', import.meta.url));
/** Where the device's files live inside the interpreter (the board's flash). */
export const FLASH = '/flash';
/** The framework files a board holds in /lib (and a copy in /safemode). */
export const FRAMEWORK = ['mqtt.py', 'wire.py', 'files.py', 'mqlog.py', 'crashlog.py', 'slots.py', 'device.py', 'evaluation.py', 'transfers.py', 'watchdog.py', 'app_modules.py', 'term.py', 'runner.py', 'stream_js.py', 'board_unix.py', 'board_wasm.py', 'interrupt.py'];
/** How long a clean stop may take before the worker is ended (a board stuck in a loop never answers). */
const STOP_GRACE_MS = 5_000;
/** Pause before booting again after the interpreter itself failed. */
const PANIC_PAUSE_MS = 1_000;

export interface MicroPythonDeviceOptions {
  /** The broker's host and port (plain TCP: the port has no TLS bridge). */
  server: string;
  port: number;
  prefix: string;
  /** Host folder holding the device's flash between boots. */
  root: string;
  /** Broker credentials: handed to the board's MQTT client at every boot, never written to its flash. */
  username?: string;
  password?: string;
  /** Extra config.json entries (modules, watchdog, tags, ...), written at the first boot only. */
  config?: Record<string, unknown>;
  /** Every line the board prints (its serial console), as it prints it. */
  echo?: (line: string) => void;
}

export interface MicroPythonDevice {
  prefix: string;
  /** How each boot ended so far (`soft`, `crash`, `watchdog`, `panic`, ...), oldest first. */
  readonly boots: string[];
  /** The worker thread of the running boot (for CPU accounting). */
  threadId(): number | undefined;
  /** Clean shutdown: the board publishes its offline status and disconnects (bounded: a stuck board is cut off). */
  stop(): Promise<void>;
  /** Power loss: the worker ends at once, its sockets with it; the broker publishes the Last Will. */
  kill(): Promise<void>;
}

export async function startMicroPythonDevice(opts: MicroPythonDeviceOptions): Promise<MicroPythonDevice> {
  const boots: string[] = [];
  let worker: Worker | undefined;
  let dead = false;
  let stopping: Promise<void> | undefined;
  let finished!: () => void;
  const ended = new Promise<void>((r) => (finished = r));
  mkdirSync(opts.root, { recursive: true });
  // What the next boot's `machine.reset_cause()` says.
  let resetCause = 'cold';

  const bootOnce = async (): Promise<string> => {
    const boot = startBoardBoot(
      {
        server: opts.server,
        port: opts.port,
        username: opts.username,
        password: opts.password,
        root: opts.root,
        config: { prefix: opts.prefix, ...opts.config },
        packageDir: PACKAGE_DIR,
        framework: FRAMEWORK,
        flash: FLASH,
        resetCause,
      },
      { onLine: opts.echo },
    );
    worker = boot.worker;
    const how = await boot.ended;
    if (how !== undefined) return how;
    throw boot.error() ?? new Error('the board worker ended without finishing its boot');
  };

  const loop = async () => {
    try {
      while (!dead) {
        let how: string;
        try {
          how = await bootOnce();
        } catch (e) {
          if (dead) return;
          // The interpreter itself failed (a WebAssembly trap): the board resets, as a chip
          // would after a panic, after a pause so a failure at every boot cannot spin.
          opts.echo?.(`micropython board: ${String(e)}; resetting`);
          how = 'panic';
          await new Promise((r) => setTimeout(r, PANIC_PAUSE_MS));
        }
        boots.push(how);
        if (how === 'shutdown') return;
        resetCause = how === 'watchdog' ? 'watchdog' : 'soft';
      }
    } finally {
      finished();
    }
  };
  void loop();

  const kill = async () => {
    dead = true;
    await worker?.terminate();
    await ended;
  };

  return {
    prefix: opts.prefix,
    boots,
    threadId: () => worker?.threadId,
    stop() {
      stopping ??= (async () => {
        worker?.postMessage('stop');
        let timer: ReturnType<typeof setTimeout> | undefined;
        const late = new Promise<'late'>((r) => (timer = setTimeout(() => r('late'), STOP_GRACE_MS)));
        const r = await Promise.race([ended, late]);
        clearTimeout(timer);
        if (r === 'late') await kill();
      })();
      return stopping;
    },
    kill,
  };
}

/** The broker URL's host and port, for callers that hold a `mqtt://host:port` URL. */
export function brokerAddress(url: string): { server: string; port: number } {
  const u = new URL(url);
  if (u.protocol !== 'mqtt:') throw new Error(`the MicroPython board speaks plain MQTT over TCP only, not ${u.protocol}`);
  return { server: u.hostname, port: Number(u.port) || 1883 };
}
