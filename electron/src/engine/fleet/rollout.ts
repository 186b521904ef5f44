// Rollouts: an image sent to a selection of devices in waves, each device held to the health
// gate (rollout-gate.ts) before the next wave starts, the whole stopping itself when too many
// fail. Plain Node on the engine, so the CLI, the app host and the tests run this one state
// machine. Its state is persisted after every device transition (rollout-store.ts); a rollout
// running when the host stopped continues when `restore` runs again.
//
// A rollout: running → paused (a threshold crossed, or the user) → running … → done, or
// aborted. A wave's devices go `concurrency` at a time; pausing lets the devices in their turn
// finish and starts no new ones.
import { randomBytes } from 'node:crypto';
import { setMaxListeners } from 'node:events';
import type { RolloutDevice, RolloutImage, RolloutInput, RolloutPlan, RolloutSummary } from '../../../../protocol/src/bridge-rollouts';
import type { Engine } from '../types';
import { runTurn, TurnAborted } from './rollout-gate';
import { planRollout } from './rollout-plan';
import type { RolloutRecord, RolloutStore } from './rollout-store';

export * from './rollout-plan';
export { createRolloutStore, type RolloutStore } from './rollout-store';

export interface RolloutEvent {
  rollout: RolloutSummary;
  /** Devices changed since the last event. */
  devices: RolloutDevice[];
}

export interface RolloutManagerOptions {
  engine: Engine;
  store: RolloutStore;
  /** The broker profile the engine is connected with now (rollouts are kept per profile). */
  profile: () => string | null;
  onEvent?: (e: RolloutEvent) => void;
  /** Events are coalesced over this many ms (default 100): a 200-device wave is not 200 events per progress tick. */
  eventMs?: number;
  warn?: (message: string) => void;
  now?: () => number;
  /** The least time the gate waits for a device to confirm (default 330 s: boards confirm after their all-OK period). */
  minConfirmMs?: number;
}

export interface StartRollout {
  input: RolloutInput;
  image: Uint8Array;
  info: RolloutImage;
}

export class RolloutError extends Error {
  constructor(
    readonly code: 'not-found' | 'invalid-argument',
    message: string,
  ) {
    super(message);
    this.name = 'RolloutError';
  }
}

const TERMINAL = new Set<RolloutDevice['state']>(['skipped', 'updated', 'failed', 'rolled-back', 'cancelled']);
const IN_GATE = new Set<RolloutDevice['state']>(['sending', 'rebooting', 'verifying', 'soaking']);
/** One signal for every turn of a rollout: each running turn listens on it (up to 256 at once). */
function turnsController(): AbortController {
  const ac = new AbortController();
  setMaxListeners(2_000, ac.signal);
  return ac;
}
const isFailure = (d: RolloutDevice) => d.state === 'failed' || d.state === 'rolled-back';

interface Live {
  rec: RolloutRecord;
  image?: Uint8Array;
  loop?: Promise<void>;
  /** Aborts every turn in flight (abort, or the host stopping). */
  ac: AbortController;
  dirty: Set<string>;
  timer?: NodeJS.Timeout;
}

export interface RolloutManager {
  plan(input: RolloutInput, info: RolloutImage): RolloutPlan;
  start(s: StartRollout): Promise<RolloutSummary>;
  pause(id: string): Promise<RolloutSummary>;
  resume(id: string): Promise<RolloutSummary>;
  abort(id: string): Promise<RolloutSummary>;
  retry(id: string): Promise<RolloutSummary>;
  /** This profile's rollouts (default: the current one), newest first. */
  list(profile?: string | null): RolloutSummary[];
  get(id: string): { rollout: RolloutSummary; devices: RolloutDevice[] };
  forget(id: string): Promise<void>;
  /** Loads the rollouts on disk and continues those that were running on the current profile. */
  restore(): Promise<void>;
  /** Resolves once the rollout's run has nothing left to do for now (paused, done, aborted). */
  settled(id: string): Promise<RolloutSummary>;
  /** Continues the current profile's running rollouts (after a switch of broker profile). */
  continueRunning(): void;
  /** Stops every run as if the host stopped: states stay as they are on disk. */
  close(): Promise<void>;
}

export function createRolloutManager(o: RolloutManagerOptions): RolloutManager {
  const { engine, store } = o;
  const now = o.now ?? Date.now;
  const eventMs = o.eventMs ?? 100;
  const lives = new Map<string, Live>();
  let closed = false;

  const need = (id: string): Live => {
    const l = lives.get(id);
    if (!l || l.rec.summary.profile !== o.profile()) throw new RolloutError('not-found', `no rollout ${id} on this broker`);
    return l;
  };

  /** Counts and wave states, from the devices. */
  const refresh = (l: Live) => {
    const s = l.rec.summary;
    // One pass over the devices: this runs at every transition of a fleet of up to 10,000.
    const counts: Record<string, number> = {};
    const open = new Array<boolean>(s.waves.length).fill(false);
    const busy = new Array<boolean>(s.waves.length).fill(false);
    for (const d of l.rec.devices) {
      counts[d.state] = (counts[d.state] ?? 0) + 1;
      if (d.state === 'skipped' || d.wave >= s.waves.length) continue;
      if (!TERMINAL.has(d.state)) open[d.wave] = true;
      // A wave some of whose devices had their turn is running, paused or not.
      if (d.state !== 'pending') busy[d.wave] = true;
    }
    s.counts = counts;
    s.waves = s.waves.map((w) => ({
      ...w,
      state: !open[w.index] ? 'done' : busy[w.index] || (w.index === s.wave && s.state === 'running') ? 'running' : 'pending',
    }));
  };

  const emitNow = (l: Live) => {
    if (l.timer) clearTimeout(l.timer);
    l.timer = undefined;
    refresh(l);
    const devices = l.dirty.size ? l.rec.devices.filter((d) => l.dirty.has(d.prefix)).map((d) => structuredClone(d)) : [];
    l.dirty.clear();
    try {
      o.onEvent?.({ rollout: structuredClone(l.rec.summary), devices });
    } catch (e) {
      o.warn?.(`rollout event listener: ${e instanceof Error ? e.message : String(e)}`);
    }
  };

  /** Something changed: an event soon, and with `persist` the record on disk. */
  const touch = (l: Live, prefix: string | undefined, persist: boolean) => {
    if (prefix) l.dirty.add(prefix);
    if (persist) {
      refresh(l);
      store.save(l.rec).catch((e: unknown) => o.warn?.(`rollout ${l.rec.summary.id} not saved: ${e instanceof Error ? e.message : String(e)}`));
    }
    l.timer ??= setTimeout(() => emitNow(l), eventMs);
  };

  const failures = (l: Live) => l.rec.devices.filter(isFailure).length;

  /** The threshold a finished device crossed, in words, or undefined. */
  const crossed = (l: Live, wave: number): string | undefined => {
    const opts = l.rec.summary.options;
    const devs = l.rec.devices;
    if (wave === 0) {
      const f = devs.filter((d) => d.wave === 0 && isFailure(d)).length;
      if (f > opts.canaryMaxFailures) return `the canary wave had ${f} device${f === 1 ? '' : 's'} fail the gate (allowed: ${opts.canaryMaxFailures})`;
      return undefined;
    }
    const f = failures(l);
    if (opts.maxFailures !== undefined) {
      return f > opts.maxFailures ? `${f} devices failed, more than the ${opts.maxFailures} allowed` : undefined;
    }
    const finished = devs.filter((d) => d.state === 'updated' || isFailure(d)).length;
    const pct = finished ? (100 * f) / finished : 0;
    if (pct > opts.maxFailurePercent) return `${f} of ${finished} devices failed (${Math.round(pct)}%), more than the ${opts.maxFailurePercent}% allowed`;
    return undefined;
  };

  const setState = (l: Live, state: RolloutSummary['state'], pausedReason?: string) => {
    const s = l.rec.summary;
    s.state = state;
    if (pausedReason !== undefined) s.pausedReason = pausedReason;
    else delete s.pausedReason;
    if (state === 'done' || state === 'aborted') s.ended = now();
    else delete s.ended;
    touch(l, undefined, true);
  };

  /** Resolves when the engine is connected (a broker drop holds the rollout instead of failing devices). */
  const connected = (signal: AbortSignal) =>
    new Promise<void>((resolve) => {
      if (engine.connection().phase === 'connected' || signal.aborted) return resolve();
      const done = () => {
        off();
        signal.removeEventListener('abort', done);
        resolve();
      };
      const off = engine.on('connection', (c) => {
        if (c.phase === 'connected') done();
      });
      signal.addEventListener('abort', done);
    });

  /** Resolves with true once the device is online, false when the rollout stops running first. */
  const online = (l: Live, prefix: string) =>
    new Promise<boolean>((resolve) => {
      const check = () => {
        if (l.rec.summary.state !== 'running' || l.ac.signal.aborted) return finish(false);
        if (engine.device(prefix)?.presence === 'online') return finish(true);
      };
      const finish = (v: boolean) => {
        off();
        clearInterval(tick);
        l.ac.signal.removeEventListener('abort', check);
        resolve(v);
      };
      const off = engine.on('devices', (changed) => {
        if (changed.some((d) => d.prefix === prefix)) check();
      });
      // A pause shows up only as a state change here, not as a device event.
      const tick = setInterval(check, 500);
      l.ac.signal.addEventListener('abort', check);
      check();
    });

  const turn = async (l: Live, d: RolloutDevice): Promise<void> => {
    const opts = l.rec.summary.options;
    const signal = l.ac.signal;
    await connected(signal);
    if (signal.aborted) return;
    if (d.state === 'pending' || d.state === 'waiting') {
      const presence = engine.device(d.prefix)?.presence;
      if (presence !== 'online') {
        if (opts.offline === 'skip') {
          Object.assign(d, { state: 'skipped', reason: `${presence === 'offline' ? 'offline' : 'not seen online'} when its turn came`, ended: now() });
          return touch(l, d.prefix, true);
        }
        Object.assign(d, { state: 'waiting', reason: 'offline: waiting for it to come back' });
        touch(l, d.prefix, true);
        const back = await online(l, d.prefix);
        if (!back) {
          // Paused or aborted while waiting: it has not started, so it is pending again.
          if (d.state === 'waiting') Object.assign(d, { state: 'pending', reason: undefined });
          return touch(l, d.prefix, true);
        }
      }
    }
    const memory = (l.rec.gates[d.prefix] ??= { crashIds: [] });
    try {
      await runTurn({
        engine,
        device: d,
        memory,
        image: l.image!,
        version: l.rec.summary.image.version!,
        onlineWithinS: opts.onlineWithinS,
        soakS: opts.soakS,
        minConfirmMs: o.minConfirmMs,
        original: l.rec.summary.image.kind === 'firmware',
        signal,
        now,
        changed: (transition) => touch(l, d.prefix, transition),
      });
    } catch (e) {
      if (!(e instanceof TurnAborted)) {
        Object.assign(d, { state: 'failed', reason: `the rollout failed this device: ${e instanceof Error ? e.message : String(e)}`, ended: now() });
      } else if (l.rec.summary.state === 'aborted') {
        Object.assign(d, { state: 'cancelled', reason: d.state === 'sending' ? 'the rollout was aborted during the transfer; the device keeps its image' : `the rollout was aborted while it was ${d.state}`, ended: now() });
      }
      // Host stopping: the state stays as it is, so the turn continues on the next start.
      touch(l, d.prefix, true);
    }
  };

  const run = async (l: Live): Promise<void> => {
    const s = l.rec.summary;
    l.image ??= await store.loadImage(s.id);
    for (;;) {
      if (s.state !== 'running' || closed || l.ac.signal.aborted) return;
      // Another profile's broker: leave it running on disk, it continues when that profile is back.
      if (s.profile !== o.profile()) return;
      // The lowest wave with work: waves go in order, and devices retried go before later waves.
      const open = l.rec.devices.filter((d) => !TERMINAL.has(d.state));
      if (open.length === 0) break;
      const w = Math.min(...open.map((d) => d.wave));
      if (s.wave !== w) {
        s.wave = w;
        touch(l, undefined, true);
      }
      // Devices caught mid-gate by a restart first, then the others in their order.
      const todo = open.filter((d) => d.wave === w);
      todo.sort((a, b) => Number(IN_GATE.has(b.state)) - Number(IN_GATE.has(a.state)));
      let next = 0;
      const worker = async () => {
        while (next < todo.length) {
          if (s.state !== 'running' || closed || l.ac.signal.aborted || s.profile !== o.profile()) return;
          const d = todo[next++]!;
          await turn(l, d);
          if (s.state === 'running' && isFailure(d)) {
            const why = crossed(l, w);
            if (why) setState(l, 'paused', why);
          }
        }
      };
      await Promise.all(Array.from({ length: Math.min(s.options.concurrency, todo.length) }, worker));
    }
    if (s.state === 'running') {
      s.wave = s.waves.length - 1;
      setState(l, 'done');
      emitNow(l);
    }
  };

  const kick = (l: Live) => {
    if (l.loop || closed) return;
    l.loop = run(l)
      .catch((e: unknown) => {
        setState(l, 'paused', `the rollout stopped on an error: ${e instanceof Error ? e.message : String(e)}`);
      })
      .finally(() => {
        l.loop = undefined;
        emitNow(l);
        // Resumed while the last turns were draining: go on.
        if (l.rec.summary.state === 'running' && !closed && !l.ac.signal.aborted && l.rec.summary.profile === o.profile() && hasWork(l)) kick(l);
      });
  };
  const hasWork = (l: Live) => l.rec.devices.some((d) => !TERMINAL.has(d.state));

  // Rollouts of a profile continue when the engine connects with it again.
  const continueRunning = () => {
    if (closed) return;
    for (const l of lives.values()) {
      if (l.rec.summary.state !== 'running') continue;
      if (l.rec.summary.profile === o.profile()) {
        kick(l);
      } else if (l.loop) {
        // Another broker now: its devices are out of reach, so the turns in flight stop where
        // they are (on disk) instead of failing, and continue when the profile is back.
        const loop = l.loop;
        l.ac.abort();
        void loop.then(() => {
          if (l.ac.signal.aborted && l.rec.summary.state === 'running') l.ac = turnsController();
        });
      }
    }
  };
  const offConnection = engine.on('connection', (c) => {
    if (c.phase === 'connected') continueRunning();
  });

  const newId = () => randomBytes(9).toString('base64url');

  const manager: RolloutManager = {
    plan(input, info) {
      if (info.version === undefined) throw new RolloutError('invalid-argument', 'the image does not say its version: give the version devices will report');
      try {
        return planRollout({ image: info, prefixes: input.prefixes, waves: input.waves, onlyOutdated: input.onlyOutdated, offline: input.offline, device: (p) => engine.device(p) });
      } catch (e) {
        if (e instanceof RangeError) throw new RolloutError('invalid-argument', e.message);
        throw e;
      }
    },

    async start({ input, image, info }) {
      const profile = o.profile();
      if (profile === null) throw new RolloutError('invalid-argument', 'not connected to a broker');
      const plan = manager.plan(input, info);
      if (plan.waves.length === 0) throw new RolloutError('invalid-argument', `no device to update: ${plan.skipped.length} skipped (${[...new Set(plan.skipped.map((s) => s.reason))].slice(0, 3).join('; ')})`);
      const id = newId();
      const { image: _image, prefixes: _prefixes, ...options } = input;
      const devices: RolloutDevice[] = [
        ...plan.waves.flatMap((w) => w.prefixes.map((prefix) => ({ prefix, wave: w.index, state: 'pending' as const, from: engine.device(prefix)?.firmware, checks: [] }))),
        ...plan.skipped.map((sk) => ({ prefix: sk.prefix, wave: 0, state: 'skipped' as const, reason: sk.reason, from: engine.device(sk.prefix)?.firmware, checks: [] })),
      ];
      const rec: RolloutRecord = {
        format: 'mqboard-rollout/1',
        summary: {
          id,
          name: input.name?.trim() || `${info.name} ${info.version ?? ''}`.trim(),
          profile,
          created: now(),
          state: 'running',
          image: info,
          options,
          waves: plan.waves.map((w) => ({ index: w.index, label: w.label, size: w.prefixes.length, state: 'pending' as const })),
          wave: 0,
          counts: {},
        },
        devices,
        gates: {},
      };
      await store.saveImage(id, image);
      const l: Live = { rec, image, ac: turnsController(), dirty: new Set(devices.map((d) => d.prefix)) };
      lives.set(id, l);
      refresh(l);
      await store.save(rec);
      emitNow(l);
      kick(l);
      return structuredClone(rec.summary);
    },

    async pause(id) {
      const l = need(id);
      if (l.rec.summary.state !== 'running') throw new RolloutError('invalid-argument', `rollout ${id} is ${l.rec.summary.state}, not running`);
      setState(l, 'paused', 'paused by the user');
      emitNow(l);
      return structuredClone(l.rec.summary);
    },

    async resume(id) {
      const l = need(id);
      if (l.rec.summary.state !== 'paused') throw new RolloutError('invalid-argument', `rollout ${id} is ${l.rec.summary.state}, not paused`);
      setState(l, 'running');
      if (!hasWork(l)) setState(l, 'done');
      emitNow(l);
      kick(l);
      return structuredClone(l.rec.summary);
    },

    async abort(id) {
      const l = need(id);
      const s = l.rec.summary;
      if (s.state === 'done' || s.state === 'aborted') throw new RolloutError('invalid-argument', `rollout ${id} is already ${s.state}`);
      setState(l, 'aborted');
      l.ac.abort();
      await l.loop;
      for (const d of l.rec.devices) {
        if (TERMINAL.has(d.state)) continue;
        Object.assign(d, { state: 'cancelled', reason: d.state === 'pending' || d.state === 'waiting' ? 'the rollout was aborted before its turn' : `the rollout was aborted while it was ${d.state}`, ended: now() });
        l.dirty.add(d.prefix);
      }
      touch(l, undefined, true);
      emitNow(l);
      await store.flush();
      return structuredClone(s);
    },

    async retry(id) {
      const l = need(id);
      const s = l.rec.summary;
      if (s.state === 'aborted') throw new RolloutError('invalid-argument', `rollout ${id} was aborted; start a new one`);
      const again = l.rec.devices.filter(isFailure);
      if (again.length === 0) throw new RolloutError('invalid-argument', `rollout ${id} has no failed devices to retry`);
      for (const d of again) {
        Object.assign(d, { state: 'pending', reason: undefined, checks: [], sent: undefined, started: undefined, ended: undefined, now: undefined });
        l.dirty.add(d.prefix);
      }
      s.wave = Math.min(...again.map((d) => d.wave));
      setState(l, 'running');
      emitNow(l);
      kick(l);
      return structuredClone(s);
    },

    list(profile = o.profile()) {
      return [...lives.values()]
        .filter((l) => l.rec.summary.profile === profile)
        .map((l) => structuredClone(l.rec.summary))
        .sort((a, b) => b.created - a.created);
    },

    get(id) {
      const l = need(id);
      refresh(l);
      return { rollout: structuredClone(l.rec.summary), devices: structuredClone(l.rec.devices) };
    },

    async forget(id) {
      const l = need(id);
      const st = l.rec.summary.state;
      if (st === 'running' || st === 'paused') throw new RolloutError('invalid-argument', `rollout ${id} is ${st}: abort it first`);
      lives.delete(id);
      if (l.timer) clearTimeout(l.timer);
      await store.remove(id);
    },

    async restore() {
      for (const rec of await store.loadAll(o.warn)) {
        if (lives.has(rec.summary.id)) continue;
        const l: Live = { rec, ac: turnsController(), dirty: new Set() };
        // A device caught mid-transfer is sent again from the start; one waiting waits again.
        for (const d of rec.devices) if (d.state === 'waiting') Object.assign(d, { state: 'pending', reason: undefined });
        lives.set(rec.summary.id, l);
        refresh(l);
        if (rec.summary.state === 'running' && rec.summary.profile === o.profile()) kick(l);
      }
    },

    async settled(id) {
      const l = lives.get(id);
      if (!l) throw new RolloutError('not-found', `no rollout ${id}`);
      while (l.loop) await l.loop;
      return structuredClone(l.rec.summary);
    },

    continueRunning,

    async close() {
      closed = true;
      offConnection();
      for (const l of lives.values()) l.ac.abort();
      await Promise.all([...lives.values()].map((l) => l.loop));
      for (const l of lives.values()) if (l.timer) clearTimeout(l.timer);
      await store.flush();
    },
  };
  return manager;
}
