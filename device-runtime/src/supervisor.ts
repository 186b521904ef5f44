// The supervisor: runs the runtime as a child process and treats its death like a board reset.
// It is the "hardware" around the runtime: the watchdog
// that resets it when no feed comes back through the broker, the detector of a blocked event
// loop (missed heartbeats), and the keeper of crash records for deaths the runtime could not
// record itself. Its own start is a power-on: RTC memory is cleared. A runtime it kills, or
// that dies, cannot say it reset (the broker only has its Last Will, "lost"): the supervisor
// says so for it before it boots the next one.
import { fork, type ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { CrashReason, Mode } from '../../protocol/src';
import { crashLog } from './crash-log';
import type { StartOptions } from './device';
import { errorMessage } from './errors';
import { FromChild, type ChildOptions, type ToChild } from './ipc';
import { openJail } from './jail';
import { sayStatusOnce } from './one-off-status';
import { rtcMemory } from './rtc';
import { offlineStatus } from './status';

export interface SupervisorOptions extends Omit<StartOptions, 'echo' | 'onReset' | 'hardwareWatchdog' | 'coldStart' | 'waitConnected' | 'log'> {
  /** Child heartbeat period. Default 500 ms. */
  heartbeatMs?: number;
  /** No heartbeat for this long means the event loop is blocked: reset. Default 10 s. */
  blockedMs?: number;
  /** Log lines of the runtime, e.g. to stderr. */
  echo?: (line: string) => void;
  /** Lines kept for crash records. Default 50. */
  crashLogLines?: number;
}

export interface SupervisedDevice {
  prefix: string;
  root: string;
  /** The runtime child's pid, while one runs. */
  pid(): number | undefined;
  /** Resolves when the runtime has booted `n` times in total (first boot: 1). */
  booted(n: number): Promise<{ mode: Mode; bootCount: number }>;
  /** Clean stop of the runtime (offline status `shutdown`), then no restart. */
  stop(): Promise<void>;
  /** Power cut: SIGKILL, no restart; the broker publishes the Last Will. */
  kill(): Promise<void>;
}

/** A runtime that has not sent one heartbeat by then is stuck at boot. */
const BOOT_TIMEOUT_MS = 60_000;
const CHILD = fileURLToPath(new URL('./child.ts', import.meta.url));
const TSX = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;

export async function startSupervisedDevice(opts: SupervisorOptions): Promise<SupervisedDevice> {
  const root = path.resolve(opts.root);
  const jail = await openJail(root);
  const rtc = rtcMemory(jail.privateDir);
  await rtc.clear(); // power-on
  const crashes = crashLog(jail.root);
  const heartbeatMs = opts.heartbeatMs ?? 500;
  const blockedMs = opts.blockedMs ?? 10_000;
  const keepLines = opts.crashLogLines ?? 50;

  const recent: string[] = [];
  const boots: Array<{ mode: Mode; bootCount: number }> = [];
  const bootWaiters: Array<{ n: number; resolve: (b: { mode: Mode; bootCount: number }) => void }> = [];
  let child: ChildProcess | undefined;
  let stopping = false;
  let restartDelay = 200;

  /** The status being said for a runtime that could not; it never rejects. */
  let saying: Promise<void> | undefined;
  const say = (reason: 'reset' | 'shutdown') => {
    // With the runtime's own broker settings: its credentials, its CA, its client id (plus /bye).
    const p = sayStatusOnce(opts, offlineStatus(reason)).catch((e: unknown) =>
      opts.echo?.(`W supervisor: offline status (${reason}) not published: ${errorMessage(e)}`),
    );
    saying = p;
    void p.then(() => saying === p && (saying = undefined));
    return p;
  };

  const childOptions: ChildOptions = {
    ...Object.fromEntries(
      Object.entries(opts).filter(([k, v]) => v !== undefined && !['heartbeatMs', 'blockedMs', 'echo', 'crashLogLines'].includes(k)),
    ),
    url: opts.url,
    prefix: opts.prefix,
    root,
    heartbeatMs,
  };

  const spawnRuntime = () => {
    // Blocked-loop detection starts with the first heartbeat: loading the runtime's code is
    // synchronous and, on a busy machine, may take longer than `blockedMs` by itself.
    let lastBeat: number | undefined;
    let watchdog: { deadline: number; ms: number } | undefined;
    let killedFor: CrashReason | undefined;
    let fatal: Extract<FromChild, { t: 'fatal' }> | undefined;
    let resetRequested: Extract<FromChild, { t: 'reset' }>['mode'] | undefined;
    let mode: Mode = opts.mode ?? 'normal';
    let bootCount = 0;
    let stderr = '';
    const startedAt = Date.now();
    // The command in progress and the one before it: if the runtime dies, either may be the
    // cause, and either may be redelivered (its PUBACK may not have left before the death).
    const lastCommands: string[] = [];

    const c = fork(CHILD, [], {
      execArgv: ['--import', TSX],
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
      serialization: 'json',
    });
    child = c;
    c.stderr?.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-8192)));
    let killDetail = '';
    const killFor = (reason: CrashReason, detail: string) => {
      if (killedFor || c.exitCode !== null || c.signalCode !== null) return;
      killedFor = reason;
      killDetail = detail;
      c.kill('SIGKILL');
    };
    const tick = setInterval(() => {
      const now = Date.now();
      if (lastBeat === undefined && now - startedAt > BOOT_TIMEOUT_MS) killFor('blocked', `runtime did not start within ${BOOT_TIMEOUT_MS} ms`);
      else if (lastBeat !== undefined && now - lastBeat > blockedMs) killFor('blocked', `event loop blocked: no heartbeat for ${blockedMs} ms`);
      else if (watchdog && now > watchdog.deadline) killFor('watchdog', `watchdog: no feed through the broker for ${watchdog.ms} ms`);
    }, Math.min(heartbeatMs, 250));

    c.on('message', (raw: unknown) => {
      const p = FromChild.safeParse(raw);
      if (!p.success) return;
      const m = p.data;
      switch (m.t) {
        case 'beat':
          lastBeat = Date.now();
          return;
        case 'arm':
          watchdog = { ms: m.ms, deadline: Date.now() + m.ms };
          return;
        case 'feed':
          if (watchdog) watchdog.deadline = Date.now() + watchdog.ms;
          return;
        case 'disarm':
          watchdog = undefined;
          return;
        case 'cmd':
          lastCommands.push(m.id);
          if (lastCommands.length > 2) lastCommands.shift();
          return;
        case 'log':
          recent.push(m.line);
          if (recent.length > keepLines) recent.shift();
          opts.echo?.(m.line);
          return;
        case 'booted': {
          mode = m.mode;
          bootCount = m.bootCount;
          const b = { mode: m.mode, bootCount: m.bootCount };
          boots.push(b);
          for (const w of [...bootWaiters]) {
            if (boots.length >= w.n) {
              bootWaiters.splice(bootWaiters.indexOf(w), 1);
              w.resolve(boots[w.n - 1]!);
            }
          }
          return;
        }
        case 'fatal':
          fatal = m;
          return;
        case 'reset':
          resetRequested = m.mode;
          return;
      }
    });

    c.on('exit', (code, signal) => {
      clearInterval(tick);
      child = undefined;
      if (stopping) return;
      // Said at once, beside the crash record: a host waiting on this device hears why before
      // it gives up on it. A requested reset other than a hard one has said so itself.
      const said = resetRequested === undefined || resetRequested === 'hard' ? say('reset') : undefined;
      void (async () => {
        if (resetRequested === undefined) {
          const reason: CrashReason = killedFor ?? fatal?.reason ?? (signal ? 'signal' : 'exit');
          const message = killedFor ? killDetail : (fatal?.message ?? (signal ? `killed by ${signal}` : `exited with code ${code}`));
          const stack = fatal?.stack ?? (stderr.trim() ? stderr.trim() : undefined);
          await rtc.update((s) => ({ ...s, resetReason: reason === 'watchdog' ? 'watchdog' : 'crash', poison: [...lastCommands] }));
          await crashes.add({ bootCount, mode, reason, message, ...(stack ? { stack } : {}), log: [...recent] });
          opts.echo?.(`E supervisor: runtime died (${reason}): ${message}`);
          // A runtime that dies right after booting is retried with growing pauses.
          restartDelay = Date.now() - startedAt > 30_000 ? 200 : Math.min(restartDelay * 2, 10_000);
        }
      })()
        // Recording failed (disk full?): still bring the runtime back.
        .catch((e: unknown) => opts.echo?.(`E supervisor: ${errorMessage(e)}`))
        .then(async () => {
          // The next boot's online status must come after the reset, never be hidden by it:
          // the retained status is what a host that looks later believes.
          await said;
          if (!stopping) scheduleRestart(resetRequested !== undefined ? 0 : restartDelay);
        });
    });
    const start: ToChild = { t: 'start', options: childOptions };
    c.send(start);
  };

  // Deliberately not unref'd: between a runtime's exit and its restart this timer is all that
  // keeps a standalone supervisor process alive (a board does not power off on reset).
  let restartTimer: NodeJS.Timeout | undefined;
  function scheduleRestart(delay: number): void {
    restartTimer = setTimeout(() => {
      restartTimer = undefined;
      if (!stopping) spawnRuntime();
    }, delay);
  }

  spawnRuntime();

  const stopChild = (graceful: boolean) =>
    new Promise<void>((resolve) => {
      stopping = true;
      clearTimeout(restartTimer);
      const c = child;
      if (!c || c.exitCode !== null || c.signalCode !== null) {
        // Between two runs: whatever was being said for the last one goes first, then (a
        // clean stop) the shutdown, so the stop does not end on a "reset" that leads nowhere.
        const before = saying ?? Promise.resolve();
        return void before.then(() => (graceful ? say('shutdown') : undefined)).then(() => resolve());
      }
      c.once('exit', () => resolve());
      if (!graceful) return void c.kill('SIGKILL');
      const msg: ToChild = { t: 'stop' };
      c.send(msg);
      setTimeout(() => c.kill('SIGKILL'), 5000).unref();
    });

  return {
    prefix: opts.prefix,
    root,
    pid: () => child?.pid,
    booted: (n) =>
      new Promise((resolve) => {
        if (boots.length >= n) resolve(boots[n - 1]!);
        else bootWaiters.push({ n, resolve });
      }),
    stop: () => stopChild(true),
    kill: () => stopChild(false),
  };
}
