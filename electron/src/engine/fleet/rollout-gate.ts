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
import type { CrashRecord } from '../../../../protocol/src';
import type { GateCheck, GateCheckName, RolloutDevice } from '../../../../protocol/src/bridge-rollouts';
import type { DeviceState, Engine } from '../types';
import { reportsVersion } from './rollout-plan';
import type { GateMemory } from './rollout-store';

/** A board confirms after its all-OK period (the original: 180-300 s), so this is the least the gate waits for it. */
export const MIN_CONFIRM_MS = 330_000;

export interface DeviceTurn {
  engine: Engine;
  device: RolloutDevice;
  memory: GateMemory;
  image: Uint8Array;
  /** The version the device must report once updated. */
  version: string;
  onlineWithinS: number;
  soakS: number;
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
          const t = setTimeout(() => {
            wake = undefined;
            resolve();
          }, left);
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
      // Back: online again after the reset (a presence change since, even if the offline
      // moment and the return arrived in one batch).
      const back = await w.until((): DeviceState | undefined => {
        const s = state();
        if (s?.presence !== 'online') return undefined;
        if (!resumed) return s.since >= resetAt ? s : undefined;
        return reportsVersion(s.firmware, t.version) || s.since > watchFrom ? s : undefined;
      }, Math.max(resetAt + t.onlineWithinS * 1000, resumed ? watchFrom + Math.min(t.onlineWithinS, 30) * 1000 : 0));
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
      set({ state: 'verifying', now: back.firmware });
    }

    // From here on the device must stay up: a presence change (a reboot, a lost connection)
    // or a firmware change fails it.
    const s1 = state();
    const since = s1?.presence === 'online' ? s1.since : -1;
    const trouble = (): string | undefined => {
      const crash = crashNews();
      if (crash) return crash;
      const s = state();
      if (!s || s.presence !== 'online' || s.since !== since) return s?.presence === 'offline' ? `went offline${s.offlineReason ? ` (${s.offlineReason})` : ''}` : 'rebooted or lost its connection';
      if (!reportsVersion(s.firmware, t.version)) return `now reports ${s.firmware ?? 'no version'}`;
      return undefined;
    };

    if (dev.state === 'verifying') {
      const backAt = memory.backAt ?? now();
      const deadline = backAt + Math.max(t.onlineWithinS * 1000, t.minConfirmMs ?? MIN_CONFIRM_MS);
      const r = await w.until((): { ok: true } | { ok: false; why: string } | undefined => {
        const why = trouble();
        if (why) return { ok: false, why };
        return state()?.ota?.confirmed === true ? { ok: true } : undefined;
      }, deadline);
      if (!r) return await fail('confirmed', `not confirmed within ${seconds(deadline - backAt)} of coming back`);
      if (!r.ok) {
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
      const why = await w.until(trouble, until);
      if (why) return await fail('no-crash', `during the soak: ${why}`);
      check('no-crash', 'passed', t.soakS > 0 ? `no crash or reboot for ${t.soakS} s` : 'no crash record');
      set({ state: 'updated', now: state()?.firmware ?? t.version, reason: undefined, ended: now() });
    }
  } finally {
    w.close();
  }
}
