// One simulated board: boots (RTC memory and OTA state decide mode and slot, eval context,
// broker connection, application modules, watchdog: boot-session.ts), serves commands, and
// reboots on `reset`, a watchdog expiry or a failed module start: in-process, or through a
// supervisor that runs it as a child process (options.onReset / options.hardwareWatchdog).
import type { OnlineStatus } from '../../protocol/src';
import { bootSession, type Boot, type Session, type StartOptions } from './boot-session';
import { errorMessage } from './errors';
import { openJail } from './jail';
import { createDeviceLog, type DeviceLog } from './log';
import { rtcForReboot, type Reboot } from './reboot';
import { rtcMemory } from './rtc';

export interface DeviceHandle {
  prefix: string;
  root: string;
  /** Clean stop: publishes the retained offline status (reason shutdown), then disconnects. */
  stop(): Promise<void>;
  /** Abrupt stop: destroys the socket without DISCONNECT, so the broker fires the Last Will. */
  kill(): void;
  /** The status the device would publish now. */
  status(): OnlineStatus;
  /** Resolves when the device has booted `n` times in total since it was started (first boot: 1). */
  booted(n: number): Promise<void>;
  log: DeviceLog;
}

export type { StartOptions } from './boot-session';

export async function startDevice(opts: StartOptions): Promise<DeviceHandle> {
  const log = opts.log ?? createDeviceLog({ ...(opts.echo ? { echo: opts.echo } : {}) });
  let boots = 0;
  const bootWaiters: Array<{ n: number; resolve: () => void }> = [];
  let stopped = false;
  let current: Session | undefined;
  let rebooting = false;

  // Power on: RTC memory does not survive it. A supervised child keeps it: the supervisor
  // powered on, the child is just the next boot.
  if (opts.coldStart !== false) {
    const jail = await openJail(opts.root);
    await rtcMemory(jail.privateDir).clear();
  }

  const reboot = (r: Reboot, session: Session) => {
    // A session that has ended cannot reboot the device: a reboot it asked for late (its retry
    // after a failed module start, say, when a reset came first) would boot a second session
    // beside the one running, two clients taking the device's connection from each other.
    if (rebooting || stopped || session.ended()) return;
    rebooting = true;
    // Outside the message handler: the reset reply still has to leave, and a clean close waits
    // for outstanding PUBACKs.
    setImmediate(() => {
      void (async () => {
        const jail = await openJail(opts.root);
        await rtcMemory(jail.privateDir).update((s) => rtcForReboot(s, r));
        if (r.kind === 'watchdog' || (r.kind === 'reset' && r.mode === 'hard')) session.kill();
        else await session.stop('reset');
        if (stopped) return;
        if (opts.onReset) return opts.onReset(r.kind === 'reset' ? r.mode : 'soft');
        // A boot that fails (disk trouble, say) is retried with growing pauses, as a board that
        // keeps resetting would: the device must come back by itself once the cause is gone.
        for (let attempt = 1; !stopped; attempt++) {
          try {
            current = await bootSession(boot);
            booted();
            return;
          } catch (e) {
            log.logger('device').critical(`boot failed (attempt ${attempt}): ${errorMessage(e)}`);
            await new Promise((res) => setTimeout(res, Math.min(500 * attempt, 10_000)));
          }
        }
      })()
        .catch((e: unknown) => log.logger('device').critical(`reboot failed: ${errorMessage(e)}`))
        .finally(() => (rebooting = false));
    });
  };
  const boot: Boot = { opts, log, generation: 0, reboot };

  const booted = () => {
    boots++;
    boot.generation = boots;
    for (const w of [...bootWaiters]) {
      if (boots >= w.n) {
        bootWaiters.splice(bootWaiters.indexOf(w), 1);
        w.resolve();
      }
    }
  };

  current = await bootSession(boot);
  booted();
  return {
    prefix: opts.prefix,
    root: opts.root,
    log,
    async stop() {
      stopped = true;
      await current?.stop('shutdown');
    },
    kill() {
      stopped = true;
      current?.kill();
    },
    status: () => current!.status(),
    booted: (n) =>
      new Promise<void>((resolve) => {
        if (boots >= n) resolve();
        else bootWaiters.push({ n, resolve });
      }),
  };
}

