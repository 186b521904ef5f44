// Simulated devices as child processes: the `mqboard-device` bin a user would run, started by the
// app for its demo fleet and the Simulate menu. A device's busy loop, crash or Ctrl-C then stays
// in its own process, as with a separate board, and never reaches the app, its web server or the
// demo broker. The bin runs under the app's own runtime (Node, or Electron as Node) and stops
// when the app goes: it watches the IPC channel. A process that dies on its own is started
// again, with growing pauses.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export interface DeviceProcessOptions {
  /** For messages: what the process simulates. */
  name: string;
  /** The bin's arguments. Never a secret: the process list shows them to every user. */
  args: string[];
  /** Broker credentials, handed over in the environment (MQBOARD_USER/MQBOARD_PASSWORD). */
  username?: string;
  password?: string;
  /** First pause before a restart after an unexpected exit; doubles up to 30 s. Default 1 s. */
  restartMs?: number;
  /** Told why the process ended when nobody asked it to (its last stderr line). */
  onExit?: (message: string) => void;
}

export interface DeviceProcess {
  /** The bin's pid, while it runs. */
  pid(): number | undefined;
  /** Resolves once the latest start's devices run; rejects if it exits first (e.g. a bad option). */
  running(): Promise<void>;
  /** Power cut: SIGKILL, and no restart until `start()`. */
  kill(): Promise<void>;
  /** Starts it again after `kill()`. */
  start(): void;
  /** Clean stop (the devices publish offline), then no restart. */
  stop(): Promise<void>;
}

const MAX_RESTART_MS = 30_000;
/** A process that ran this long had a good life: the next restart is quick again. */
const STABLE_MS = 60_000;
const STOP_GRACE_MS = 8_000;

let foundBin: string | undefined;

/** The device bin as package.json names it, found from this module up (source, out/ or packaged). */
export function deviceBin(): string {
  if (foundBin) return foundBin;
  for (let dir = path.dirname(fileURLToPath(import.meta.url)); ; dir = path.dirname(dir)) {
    const bin = binIn(dir);
    if (bin) return (foundBin = bin);
    if (path.dirname(dir) === dir) throw new Error('the mqboard-device runtime is missing from this installation');
  }
}

function binIn(dir: string): string | undefined {
  let p: { name?: unknown; bin?: Record<string, unknown> };
  try {
    p = JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')) as typeof p;
  } catch {
    return undefined; // none here (or not ours to read): look further up
  }
  const bin = p.name === 'mqboard' ? p.bin?.['mqboard-device'] : undefined;
  return typeof bin === 'string' && existsSync(path.join(dir, bin)) ? path.join(dir, bin) : undefined;
}

/** The bin's connection variables (config.ts): ours would point its devices somewhere else. */
const CONNECTION_ENV = ['MQBOARD_SERVER', 'MQBOARD_PORT', 'MQBOARD_TLS', 'MQBOARD_PREFIX', 'MQBOARD_USER', 'MQBOARD_PASSWORD'];

/** The environment for a device process: ours without connection settings, plus its credentials. */
function childEnv(o: DeviceProcessOptions): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = Object.fromEntries(Object.entries(process.env).filter(([k]) => !CONNECTION_ENV.includes(k)));
  // In the Electron app process.execPath is Electron itself; this makes it a plain Node.
  env.ELECTRON_RUN_AS_NODE = '1';
  if (o.username !== undefined) env.MQBOARD_USER = o.username;
  if (o.password !== undefined) env.MQBOARD_PASSWORD = o.password;
  return env;
}

export function startDeviceProcess(o: DeviceProcessOptions): DeviceProcess {
  const bin = deviceBin();
  let child: ChildProcess | undefined;
  let wanted = true;
  let restartDelay = o.restartMs ?? 1_000;
  let restartTimer: NodeJS.Timeout | undefined;
  let latest: Promise<void>;

  const launch = (): Promise<void> => {
    const c = spawn(process.execPath, [bin, ...o.args], { env: childEnv(o), stdio: ['ignore', 'ignore', 'pipe', 'ipc'], serialization: 'json' });
    child = c;
    const startedAt = Date.now();
    let stderr = '';
    c.stderr?.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4096)));
    const lastLine = () =>
      stderr
        .trim()
        .split('\n')
        .at(-1)
        // Device output is untrusted text: no terminal controls into the app's log.
        // eslint-disable-next-line no-control-regex -- control characters are what we remove
        ?.replace(/[\u0000-\u001f\u007f-\u009f]/g, ' ')
        .slice(0, 300) ?? '';
    const running = new Promise<void>((resolve, reject) => {
      c.on('message', (m: unknown) => {
        if (typeof m === 'object' && m !== null && (m as { t?: unknown }).t === 'running') resolve();
      });
      c.once('error', (e) => {
        if (c.pid === undefined) reject(new Error(`${o.name}: cannot start the device runtime: ${e.message}`));
      });
      c.once('exit', (code, signal) => reject(new Error(`${o.name}: the device runtime exited (${signal ?? `code ${code}`})${lastLine() ? `: ${lastLine()}` : ''}`)));
    });
    running.catch(() => undefined);
    let ended = false;
    const onEnd = (why: string) => {
      // A spawn failure emits 'error' and maybe no 'exit'; an ordinary end only 'exit'.
      if (ended) return;
      ended = true;
      if (child === c) child = undefined;
      if (!wanted) return;
      o.onExit?.(`${o.name}: the device runtime ${why}; restarting`);
      restartDelay = Date.now() - startedAt > STABLE_MS ? (o.restartMs ?? 1_000) : restartDelay;
      const delay = restartDelay;
      restartDelay = Math.min(restartDelay * 2, MAX_RESTART_MS);
      restartTimer = setTimeout(() => {
        restartTimer = undefined;
        if (wanted) latest = launch();
      }, delay);
    };
    c.once('exit', (code, signal) => onEnd(`ended (${signal ?? `code ${code}`})${lastLine() ? `: ${lastLine()}` : ''}`));
    c.on('error', (e) => {
      // Also emitted when a kill or a message fails; only a failed spawn leaves no pid.
      if (c.pid === undefined) onEnd(`could not start: ${e.message}`);
    });
    return running;
  };

  const end = (signal: NodeJS.Signals) =>
    new Promise<void>((resolve) => {
      wanted = false;
      clearTimeout(restartTimer);
      const c = child;
      if (!c || c.exitCode !== null || c.signalCode !== null) return resolve();
      c.once('exit', () => resolve());
      c.kill(signal);
      if (signal !== 'SIGKILL') setTimeout(() => c.kill('SIGKILL'), STOP_GRACE_MS).unref();
    });

  latest = launch();
  return {
    pid: () => child?.pid,
    running: () => latest,
    kill: () => end('SIGKILL'),
    start() {
      if (wanted) return;
      wanted = true;
      restartDelay = o.restartMs ?? 1_000;
      latest = launch();
    },
    stop: () => end('SIGTERM'),
  };
}
