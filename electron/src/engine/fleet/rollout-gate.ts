// One device's turn in a rollout: send the image, reset it into the new slot, and hold it to the
// health gate: back online in time, reporting the new version, confirmed (the runtime confirms a
// slot once its watchdog reaches all-OK; a boot whose modules failed never does), and no new
// crash record or reboot for the soak period. A device that fails is rolled back: our runtime
// rolls an unconfirmed slot back at its next boot by itself (ota-slots.ts `otaBoot`), so the
// host only resets one still running the trial slot, and waits for the previous version.
//
// Original boards take MicroPython firmware the same way. They publish no status, so what the
// gate reads comes from their log (discovery, original-boot-log.ts): the boot greeting names the
// build and starts a new run, and the watchdog's all-OK line is the confirmation (the board marks
// the running partition valid then). A new image that never gets there is rolled back by the
// bootloader at its next reset, a panic or the hardware watchdog's included.
//
// Every step is driven by the engine's device events (no polling), and what the gate must
// remember lives in `memory`, persisted with the rollout, so a host that restarts mid-gate
// picks up where it was.
//
// The host may lose sight of a device without the device changing at all: its own broker
// connection drops, or it restarts. Nothing is judged while it cannot see; once it can again,
// the run the device is in is compared with the one it came back in (our runtime's boot count
// and boot time from its status; an original board's build, boot time and all-OK from a probe,
// original-probe.ts), so a reboot the host did not see still fails the gate.
import type { CrashRecord } from '../../../../protocol/src';
import type { GateCheck, GateCheckName, RolloutDevice } from '../../../../protocol/src/bridge-rollouts';
import type { OriginalProbe } from '../original-probe';
import type { DeviceState, Engine } from '../types';
import { reportsVersion } from './rollout-plan';
import type { GateMemory } from './rollout-store';

/** A board confirms after its all-OK period (the original: 180-300 s), so this is the least the gate waits for it. */
export const MIN_CONFIRM_MS = 330_000;

/** Once the host sees again, how long the device has to show itself (a retained status, a probe's answer). */
const SIGHT_GRACE_MS = 15_000;
/** Boot times from two statuses (uptime in seconds) or two probes differ by rounding and latency only. */
const SAME_BOOT_MS = 3_000;

type Run = NonNullable<GateMemory['run']>;
const runOf = (d: Pick<DeviceState, 'bootCount' | 'bootedAt'> | undefined): Run | undefined => (d && (d.bootCount !== undefined || d.bootedAt !== undefined) ? { bootCount: d.bootCount, bootedAt: d.bootedAt } : undefined);

/** Whether `d` is still in the run `run`: true, false, or undefined when neither says. */
export function sameRun(d: Pick<DeviceState, 'bootCount' | 'bootedAt'>, run: Run | undefined): boolean | undefined {
  if (!run) return undefined;
  if (d.bootCount !== undefined && run.bootCount !== undefined) return d.bootCount === run.bootCount;
  if (d.bootedAt !== undefined && run.bootedAt !== undefined) return Math.abs(d.bootedAt - run.bootedAt) <= SAME_BOOT_MS;
  return undefined;
}

export interface DeviceTurn {
  engine: Engine;
  device: RolloutDevice;
  memory: GateMemory;
  image: Uint8Array;
  /** The version the device must report once updated. */
  version: string;
  onlineWithinS: number;
  soakS: number;
  /** The image is MicroPython firmware, so the device is an original board (the host may not have heard from it yet). */
  original?: boolean;
  /** The least time the gate waits for the confirmation (default MIN_CONFIRM_MS). */
  minConfirmMs?: number;
  /** Aborts the turn (the rollout was aborted): the caller marks the device. */
  signal: AbortSignal;
  /** Called after every change of `device` or `memory`: publish and persist. */
  changed(transition: boolean): void;
  now?: () => number;
}

const errorText = (e: unknown): string => (e instanceof Error ? e.message : String(e));
const seconds = (ms: number) => `${Math.round(ms / 100) / 10} s`;

export class TurnAborted extends Error {
  constructor() {
    super('cancelled');
    this.name = 'TurnAborted';
  }
}

/** Waits on one device's events: resolves when `test` gives a value, or undefined at `deadline`. */
function watcher(engine: Engine, prefix: string, signal: AbortSignal, now: () => number) {
  let wake: (() => void) | undefined;
  const kick = () => {
    const w = wake;
    wake = undefined;
    w?.();
  };
  const offDevices = engine.on('devices', (changed, removed) => {
    if (removed.includes(prefix) || changed.some((d) => d.prefix === prefix)) kick();
  });
  const offCrashes = engine.on('crashes', (p) => {
    if (p === prefix) kick();
  });
  const offConnection = engine.on('connection', kick);
  signal.addEventListener('abort', kick);
  return {
    async until<T>(test: () => T | undefined, deadline: number): Promise<T | undefined> {
      for (;;) {
        if (signal.aborted) throw new TurnAborted();
        const v = test();
        if (v !== undefined) return v;
        const left = deadline - now();
        if (left <= 0) return undefined;
        await new Promise<void>((resolve) => {
          // Bounded: a timer beyond 2^31 ms would fire at once.
          const t = setTimeout(() => {
            wake = undefined;
            resolve();
          }, Math.min(left, 3_600_000));
          wake = () => {
            clearTimeout(t);
            resolve();
          };
        });
      }
    },
    close() {
      offDevices();
      offCrashes();
      offConnection();
      signal.removeEventListener('abort', kick);
      kick();
    },
  };
}

const freshChecks = (): GateCheck[] => (['online', 'version', 'confirmed', 'no-crash'] as const).map((name) => ({ name, state: 'pending' }));

/**
 * Runs the device's turn from wherever its state says (pending or sending: send; rebooting,
 * verifying, soaking: continue the gate). Ends with the device `updated`, `failed` or
 * `rolled-back`; throws TurnAborted when the signal aborts.
 */
export async function runTurn(t: DeviceTurn): Promise<void> {
  const now = t.now ?? Date.now;
  const { engine, device: dev, memory } = t;
  const prefix = dev.prefix;
  const w = watcher(engine, prefix, t.signal, now);
  const state = () => engine.device(prefix);
  const isOriginal = () => t.original === true || state()?.kind === 'original';
  // An original board resets through its watchdog module into normal mode: a bare machine.reset()
  // before its all-OK would boot the new firmware in safe mode.
  const resetMode = () => (state()?.kind === 'original' ? 'normal' : 'hard');
  const set = (patch: Partial<RolloutDevice>, transition = true) => {
    Object.assign(dev, patch);
    t.changed(transition);
  };
  const check = (name: GateCheckName, result: 'passed' | 'failed', detail: string) => {
    dev.checks = dev.checks.map((c) => (c.name === name ? { name, state: result, at: now(), detail } : c));
  };
  const newCrash = (): CrashRecord | undefined => {
    const known = new Set(memory.crashIds);
    return engine.crashes(prefix).find((r) => !known.has(r.id));
  };
  const crashText = (r: CrashRecord) => `crash record: ${r.reason}: ${r.message.slice(0, 200)}`;
  /** A new crash: its record, or the count in its status (our runtime sends records only at its next connect). */
  const crashNews = (): string | undefined => {
    const r = newCrash();
    if (r) return crashText(r);
    const n = state()?.crashCount;
    if (n !== undefined && memory.crashCount !== undefined && n > memory.crashCount) return `crash record: ${n - memory.crashCount} new (${n} in all)`;
    return undefined;
  };

  /** Fails the gate at `name`, then rolls the device back if it can. */
  const fail = async (name: GateCheckName, detail: string): Promise<void> => {
    check(name, 'failed', detail);
    set({ state: 'failed', reason: detail, ended: now() });
    await rollBack(detail);
  };

  const rollBack = async (first: string): Promise<void> => {
    // The crash record may arrive after the reboot it caused: name it once it is there.
    let why = first;
    const named = () => {
      const crash = newCrash();
      if (!crash || why.includes(crashText(crash))) return why;
      if (!dev.checks.some((c) => c.name === 'no-crash' && c.state === 'failed')) check('no-crash', 'failed', crashText(crash));
      why = why.replace(/; crash record: \d+ new \(\d+ in all\)/, '').replace(/crash record: \d+ new \(\d+ in all\)/, crashText(crash));
      return why.includes(crashText(crash)) ? why : (why = `${why}; ${crashText(crash)}`);
    };
    const d = state();
    const from = dev.from;
    if (from !== undefined && reportsVersion(from, t.version)) {
      set({ reason: `${named()}; it was on ${from} before, so there is nothing to roll back to`, ended: now() });
      return;
    }
    if (d?.presence === 'online' && reportsVersion(d.firmware, t.version) && d.ota?.confirmed === true) {
      set({ reason: `${named()}; it had already confirmed ${t.version}, so its runtime keeps it`, ended: now() });
      return;
    }
    if (d?.presence === 'online' && reportsVersion(d.firmware, t.version)) {
      // Still on the trial slot: a second boot of an unconfirmed slot goes back to the previous one.
      await engine.reset(prefix, resetMode(), { signal: t.signal, timeoutMs: 10_000 }).catch(() => undefined);
    }
    const back = await w.until(() => {
      const s = state();
      if (s?.presence !== 'online' || reportsVersion(s.firmware, t.version)) return undefined;
      if (from !== undefined && !reportsVersion(s.firmware, from)) return undefined;
      return s;
    }, now() + t.onlineWithinS * 1000);
    // Its status counts a crash whose record follows it: wait a moment for the record.
    const counted = state()?.crashCount;
    if (back && !newCrash() && counted !== undefined && memory.crashCount !== undefined && counted > memory.crashCount) await w.until(newCrash, now() + 5_000);
    named();
    if (back) set({ state: 'rolled-back', now: back.firmware, reason: `${why}; rolled back to ${back.firmware ?? 'its previous image'}`, ended: now() });
    else set({ reason: `${why}; not back on ${from ?? 'its previous version'} within ${t.onlineWithinS} s`, ended: now() });
  };

  /** The host cannot see any device: its own broker connection is down. */
  const blind = () => engine.connection().phase !== 'connected';
  /**
   * `w.until`, except that a deadline passing while the host cannot see does not count: it waits
   * for the connection, then gives the device SIGHT_GRACE_MS to show itself.
   */
  const untilSeen = async <T>(test: () => T | undefined, deadline: number): Promise<T | undefined> => {
    for (;;) {
      const v = await w.until(test, deadline);
      if (v !== undefined || !blind()) return v;
      await w.until(() => (blind() ? undefined : true), Number.POSITIVE_INFINITY);
      deadline = Math.max(deadline, now() + SIGHT_GRACE_MS);
    }
  };
  /** An original board's answer to the probe, asked again until `deadline`; undefined if it never answered. */
  const probe = async (deadline: number): Promise<OriginalProbe | undefined> => {
    for (;;) {
      try {
        return await engine.probeOriginal(prefix, { signal: t.signal, timeoutMs: 10_000 });
      } catch {
        if (t.signal.aborted) throw new TurnAborted();
        if (now() >= deadline) return undefined;
        await w.until(() => undefined, Math.min(deadline, now() + 2_000));
      }
    }
  };
  // Where this call took the turn up: a state past the reset means a host resuming mid-gate.
  const entered = dev.state;

  try {
    if (dev.state === 'pending' || dev.state === 'waiting' || dev.state === 'sending') {
      const before = state();
      memory.crashIds = engine.crashes(prefix).map((r) => r.id);
      memory.crashCount = before?.crashCount;
      delete memory.resetAt;
      delete memory.resetSent;
      delete memory.backAt;
      delete memory.confirmedAt;
      delete memory.soakUntil;
      set({ state: 'sending', started: now(), sent: 0, checks: freshChecks(), from: before?.firmware, now: undefined, reason: undefined, ended: undefined });
      try {
        await engine.ota(prefix, t.image, {
          signal: t.signal,
          onProgress: (p) => set({ sent: p.bytesDone }, false),
        });
      } catch (e) {
        if (t.signal.aborted) throw new TurnAborted();
        const s = state();
        if (s?.presence === 'online' && reportsVersion(s.firmware, t.version) && !(dev.from !== undefined && reportsVersion(dev.from, t.version))) {
          // The image was in place when the device rebooted (its watchdog, say) before it could
          // reply: it runs the new image on trial now, so the gate takes it from here.
          memory.resetAt = dev.started;
          memory.resetSent = true;
          set({ state: 'rebooting', sent: t.image.length, reason: `rebooted before the transfer was acknowledged: ${errorText(e)}` });
        } else {
          // Nothing changed on the device: a failed transfer leaves its slots as they were.
          set({ state: 'failed', reason: `sending the image failed: ${errorText(e)}`, ended: now() });
          return;
        }
      }
      if (dev.state === 'sending') set({ state: 'rebooting', sent: t.image.length });
    }

    if (dev.state === 'rebooting') {
      // Resumed by a new host whose engine saw none of the reboot: the retained status may
      // predate the reset, so only the new version, or a change it watched happen, says "back".
      const resumed = memory.resetSent === true;
      const watchFrom = now();
      if (!memory.resetSent) {
        // A second reset of a device already on its trial boot would roll it back, so the reset
        // goes once: here, or again only if a host stopped before the broker took it.
        memory.resetAt = now();
        t.changed(false);
        // Not cancelled by a stopping host: a reset cut off mid-publish may reach the device all
        // the same, and the next host, not knowing, would send a second one. Let it finish and
        // record it (a stop waits for the turns to end).
        await engine.reset(prefix, resetMode(), { timeoutMs: 10_000 }).then(
          () => {
            memory.resetSent = true;
            t.changed(true);
            if (t.signal.aborted) throw new TurnAborted();
          },
          (e: unknown) => {
            if (t.signal.aborted) throw new TurnAborted();
            // The gate's online check says whether it rebooted after all.
            set({ reason: `the reset was not delivered: ${errorText(e)}` }, false);
          },
        );
      }
      const resetAt = memory.resetAt ?? watchFrom;
      const backBy = Math.max(resetAt + t.onlineWithinS * 1000, resumed ? watchFrom + Math.min(t.onlineWithinS, 30) * 1000 : 0);
      // An original board's greeting went by before this host listened: ask it instead.
      if (resumed && isOriginal()) await probe(backBy);
      // Back: online again after the reset (a presence change since, even if the offline
      // moment and the return arrived in one batch).
      const back = await untilSeen((): DeviceState | undefined => {
        const s = state();
        if (s?.presence !== 'online') return undefined;
        if (!resumed) return s.since >= resetAt ? s : undefined;
        return reportsVersion(s.firmware, t.version) || s.since > watchFrom ? s : undefined;
      }, backBy);
      if (!back) return await fail('online', `not back online within ${t.onlineWithinS} s of the reset`);
      memory.backAt = now();
      check('online', 'passed', `back after ${seconds(memory.backAt - resetAt)}`);
      if (!reportsVersion(back.firmware, t.version)) {
        const rolled = back.bootReason === 'rollback' ? ' (it rolled back at boot)' : '';
        check('version', 'failed', `reports ${back.firmware ?? 'no version'}, not ${t.version}${rolled}`);
        const crash = crashNews();
        set({ state: 'failed', reason: `reports ${back.firmware ?? 'no version'} after the reset, not ${t.version}${rolled}${crash ? `; ${crash}` : ''}`, ended: now() });
        return await rollBack(dev.reason!);
      }
      check('version', 'passed', `reports ${back.firmware}`);
      // The run it came back in: a later one is a reboot, even one the host did not see.
      memory.run = back.kind === 'original' ? runOf(await probe(now() + t.onlineWithinS * 1000)) : runOf(back);
      set({ state: 'verifying', now: back.firmware });
    }

    // From here on the device must stay up: a presence change (a reboot, a lost connection)
    // or a firmware change fails it. A host that resumed here did not watch it until now.
    let lostSight = entered === 'verifying' || entered === 'soaking';
    const s1 = state();
    let since = s1?.presence === 'online' && !lostSight ? s1.since : -1;
    /** Undefined while all is well (or the host cannot tell), 'recheck' when an original board must be asked. */
    const trouble = (): string | 'recheck' | undefined => {
      const crash = crashNews();
      if (crash) return crash;
      if (blind()) {
        lostSight = true;
        return undefined;
      }
      const s = state();
      if (lostSight && isOriginal()) return 'recheck';
      if (!s) return lostSight ? undefined : 'removed from the device list';
      if (s.presence === 'offline') return `went offline${s.offlineReason ? ` (${s.offlineReason})` : ''}`;
      if (lostSight) {
        // Seen again after a gap: the same run, or a reboot the host missed.
        if (s.presence !== 'online') return undefined;
        if (sameRun(s, memory.run) === false) return `rebooted while the host could not see it (boot ${s.bootCount ?? 'unknown'}, it came back in boot ${memory.run?.bootCount ?? 'unknown'})`;
        since = s.since;
        lostSight = false;
      }
      if (s.presence !== 'online' || s.since !== since) return 'rebooted or lost its connection';
      if (!reportsVersion(s.firmware, t.version)) return `now reports ${s.firmware ?? 'no version'}`;
      return undefined;
    };
    /** Asks an original board seen again after a gap; its answer, or why it fails. */
    const recheck = async (): Promise<string | undefined> => {
      const p = await probe(now() + SIGHT_GRACE_MS);
      if (!p) return 'did not answer once the host could see it again';
      if (sameRun(p, memory.run) === false) return `rebooted while the host could not see it (it runs ${p.firmware})`;
      since = state()?.since ?? -1;
      lostSight = false;
      return undefined;
    };
    /**
     * Watches until `done` or the deadline. Trouble ends it at once; a deadline that passes
     * while the host cannot see waits for sight and one more look.
     */
    const watchUntil = async (done: () => boolean, deadline: number): Promise<{ why: string } | 'done' | undefined> => {
      let graced = false;
      for (;;) {
        const r = await w.until((): { why: string } | 'done' | 'recheck' | undefined => {
          const why = trouble();
          if (why === 'recheck') return why;
          if (why) return { why };
          return !lostSight && done() ? 'done' : undefined;
        }, deadline);
        if (r === 'recheck') {
          const why = await recheck();
          if (why) return { why };
          continue;
        }
        if (r !== undefined) return r;
        if (!blind() && !lostSight) return undefined;
        if (graced && !blind()) return { why: 'not seen again once the host could see it' };
        await w.until(() => (blind() ? undefined : true), Number.POSITIVE_INFINITY);
        deadline = Math.max(deadline, now() + SIGHT_GRACE_MS);
        graced = true;
      }
    };

    if (dev.state === 'verifying') {
      const backAt = memory.backAt ?? now();
      const deadline = backAt + Math.max(t.onlineWithinS * 1000, t.minConfirmMs ?? MIN_CONFIRM_MS);
      const r = await watchUntil(() => state()?.ota?.confirmed === true, deadline);
      if (!r) return await fail('confirmed', `not confirmed within ${seconds(deadline - backAt)} of coming back`);
      if (r !== 'done') {
        check('confirmed', 'failed', `never confirmed: ${r.why}`);
        if (r.why.startsWith('crash record')) check('no-crash', 'failed', r.why);
        set({ state: 'failed', reason: `before confirming: ${r.why}`, ended: now() });
        return await rollBack(dev.reason!);
      }
      memory.confirmedAt = now();
      memory.soakUntil = memory.confirmedAt + t.soakS * 1000;
      check('confirmed', 'passed', `confirmed after ${seconds(memory.confirmedAt - backAt)}`);
      set({ state: 'soaking' });
    }

    if (dev.state === 'soaking') {
      const until = memory.soakUntil ?? now() + t.soakS * 1000;
      const r = await watchUntil(() => false, until);
      if (r && r !== 'done') return await fail('no-crash', `during the soak: ${r.why}`);
      check('no-crash', 'passed', t.soakS > 0 ? `no crash or reboot for ${t.soakS} s` : 'no crash record');
      set({ state: 'updated', now: state()?.firmware ?? t.version, reason: undefined, ended: now() });
    }
  } finally {
    w.close();
  }
}
