// The bridge's fleet operations: tags and saved views per broker profile, jobs on many devices,
// the queue of commands waiting for offline devices, and the history the overview charts. The
// work is done by the settings store, the job list (fleet-jobs.ts) and the engine's scheduler
// and command queue; this file wires them to the current broker profile.
import path from 'node:path';
import type { BridgeEvent, FleetHistory, JobAction, QueuedCommand } from '../../../protocol/src';
import { MAX_QUEUED_PUT_BYTES, openCommandQueue, queuedTitle, startQueueRunner, type QueuedItem, type QueueRunner } from '../engine/fleet/queue';
import type { FleetAction } from '../engine/fleet/run-many';
import type { Engine } from '../engine/types';
import { HostError } from './errors';
import { createJobs } from './fleet-jobs';
import { openFleetSettingsStore } from './fleet-settings-store';
import type { FleetHandlers } from './handlers';
import type { TransferStages } from './transfer-stages';

/** Online devices are sampled this often for the overview chart … */
const SAMPLE_MS = 10_000;
/** … and kept for a day. */
const SAMPLES_KEPT = 8_640;
/** Days of crashes the overview charts, today included. */
const CRASH_DAYS = 14;
/**
 * How often queue changes go out on the `queue` stream. The event carries the whole queue, so a
 * long one goes out less often (10,000 commands: every 2 s) rather than flooding the windows.
 */
const queueFlushMs = (items: number) => Math.min(2_000, Math.max(100, items / 5));
const DAY_MS = 86_400_000;

export interface FleetHandlerDeps {
  engine: Engine;
  /** Where fleet.json (tags, views) and queue.json (queued commands) live. */
  settingsDir: string;
  /** The current broker profile's id (`demo` for the demo), null when not connected to one. */
  profile(): string | null;
  /** Files the page staged for a put job. */
  stages: TransferStages;
  publish(e: BridgeEvent): void;
  /** Crash records per UTC day from the log store, oldest first; without it, the engine's crash records are counted. */
  crashesPerDay?(profile: string, days: number): Promise<Array<{ day: string; count: number }>>;
  /** Tests: a shorter sampling interval for the online history. */
  sampleMs?: number;
  /** Per queued command, once its device is back; default 30 s. */
  queueTimeoutMs?: number;
}

export interface FleetService {
  handlers: FleetHandlers;
  /** Call after the connection switched to another broker profile (or to none). */
  profileChanged(): void;
  /** Stops the queue runner and the timers; running jobs are cancelled. */
  close(): Promise<void>;
}

const utcDay = (t: number) => new Date(t).toISOString().slice(0, 10);

export function createFleetHandlers(d: FleetHandlerDeps): FleetService {
  const settings = openFleetSettingsStore(path.join(d.settingsDir, 'fleet.json'));
  const queue = openCommandQueue(path.join(d.settingsDir, 'queue.json'));
  if (queue.problem) console.warn(`mqboard: ${queue.problem}`);

  const connectedProfile = (): string => {
    const p = d.profile();
    if (p === null) throw new HostError('not-connected', 'connect to a broker first: tags, views and jobs are kept per broker');
    return p;
  };

  // The queue stream: the current profile's whole queue, at most once per flush.
  let queueTimer: ReturnType<typeof setTimeout> | undefined;
  let closed = false;
  const queueItems = (prefix?: string): QueuedCommand[] => {
    const profile = d.profile();
    if (profile === null) return [];
    return queue.list({ profile, prefix }).map((i) => ({
      id: i.id,
      prefix: i.prefix,
      kind: i.action.kind,
      title: queuedTitle(i.action),
      queuedAt: i.queuedAt,
      attempts: i.attempts,
      ...(i.job === undefined ? {} : { job: i.job }),
    }));
  };
  const queueChanged = () => {
    if (closed) return;
    queueTimer ??= setTimeout(() => {
      queueTimer = undefined;
      d.publish({ stream: 'queue', items: queueItems() });
    }, queueFlushMs(queue.list().length));
  };

  // The runner of the profile connected now; a new one starts only once the previous has stopped,
  // so no command runs twice across a reconnect.
  let runner: { profile: string; runner?: QueueRunner } | undefined;
  let stopping: Promise<unknown> = Promise.resolve();
  const jobs = createJobs({
    engine: d.engine,
    queue,
    profile: d.profile,
    publish: d.publish,
    queued(prefix) {
      queueChanged();
      runner?.runner?.poke(prefix);
    },
  });

  /** One runner, for the connected profile's commands only, while connected. */
  const syncRunner = () => {
    const want = !closed && d.engine.connection().phase === 'connected' ? d.profile() : null;
    if (runner?.profile === want || (!runner && want === null)) return;
    if (runner) {
      const old = runner.runner;
      runner = undefined;
      if (old) stopping = Promise.all([stopping, old.stop()]);
    }
    if (want === null) return;
    const slot: { profile: string; runner?: QueueRunner } = { profile: want };
    runner = slot;
    void stopping.then(() => {
      if (runner !== slot || closed) return;
      slot.runner = startQueueRunner({
        engine: d.engine,
        queue,
        profile: want,
        timeoutMs: d.queueTimeoutMs,
        onStart: (item) => {
          jobs.queueStarted(item);
          queueChanged();
        },
        onResult: (item, r) => {
          jobs.queueResult(item, r);
          queueChanged();
        },
        onMissed: (item, attempts) => {
          jobs.queueMissed(item, attempts);
          queueChanged();
        },
      });
    });
  };
  const offConnection = d.engine.on('connection', syncRunner);
  syncRunner();

  // Online devices over time, for the current profile's fleet only.
  let samples: FleetHistory['online'] = [];
  const sample = () => {
    let online = 0;
    const all = d.engine.devices();
    for (const dev of all) if (dev.presence === 'online') online++;
    return { t: Date.now(), online, total: all.length };
  };
  const sampler = setInterval(() => {
    if (d.profile() === null) return;
    samples.push(sample());
    if (samples.length > SAMPLES_KEPT) samples = samples.slice(-SAMPLES_KEPT);
  }, d.sampleMs ?? SAMPLE_MS);
  sampler.unref?.();

  const crashesPerDay = async (): Promise<FleetHistory['crashesPerDay']> => {
    const today = Date.UTC(new Date().getUTCFullYear(), new Date().getUTCMonth(), new Date().getUTCDate());
    const days = Array.from({ length: CRASH_DAYS }, (_, i) => utcDay(today - (CRASH_DAYS - 1 - i) * DAY_MS));
    const counts = new Map(days.map((day) => [day, 0]));
    const profile = d.profile();
    if (d.crashesPerDay && profile !== null) {
      for (const { day, count } of await d.crashesPerDay(profile, CRASH_DAYS)) if (counts.has(day)) counts.set(day, count);
    } else {
      for (const dev of d.engine.devices()) {
        for (const c of d.engine.crashes(dev.prefix)) {
          const day = utcDay(c.time);
          const n = counts.get(day);
          if (n !== undefined) counts.set(day, n + 1);
        }
      }
    }
    return days.map((day) => ({ day, count: counts.get(day)! }));
  };

  /** A job's action with the staged files' bytes, taken only once every stage is complete. */
  const resolveAction = (a: JobAction, queueing: boolean): FleetAction => {
    if (a.kind !== 'put') return a;
    const files = a.files.map((f) => ({ path: f.path, ...d.stages.peek(f.stage) }));
    if (queueing) {
      const big = files.find((f) => f.data.length > MAX_QUEUED_PUT_BYTES);
      if (big) throw new HostError('invalid-argument', `${big.path}: ${big.data.length} bytes is too large to queue for offline devices (at most ${MAX_QUEUED_PUT_BYTES}); run without queueing`);
    }
    // One stage may feed several paths: each is taken once.
    for (const stage of new Set(a.files.map((f) => f.stage))) d.stages.take(stage);
    return { kind: 'put', files: files.map((f) => ({ path: f.path, data: f.data })), onlyChanged: a.onlyChanged };
  };

  const handlers: FleetHandlers = {
    getFleetSettings: async () => settings.get(d.profile()),
    setTags: async ({ prefixes, add, remove }) => {
      const s = settings.setTags(connectedProfile(), prefixes, add, remove);
      d.publish({ stream: 'fleet', settings: s });
      return s;
    },
    saveView: async (view) => {
      const s = settings.saveView(connectedProfile(), view);
      d.publish({ stream: 'fleet', settings: s });
      return s;
    },
    deleteView: async ({ name }) => {
      const s = settings.deleteView(connectedProfile(), name);
      d.publish({ stream: 'fleet', settings: s });
      return s;
    },
    getDiscovery: async () => d.engine.discovery(),
    jobStart: async ({ action, prefixes, concurrency, timeoutMs, offline }) => {
      connectedProfile();
      const job = jobs.start(resolveAction(action, offline === 'queue'), prefixes, { concurrency, timeoutMs, offline });
      return { job };
    },
    jobRerun: async ({ job, which }) => ({ job: jobs.rerun(job, which) }),
    jobCancel: async ({ job }) => {
      jobs.cancel(job);
      return {};
    },
    jobGet: async ({ job }) => jobs.get(job),
    jobList: async () => ({ jobs: jobs.list() }),
    queueList: async ({ prefix }) => ({ items: queueItems(prefix) }),
    queueRemove: async ({ id }) => {
      const profile = connectedProfile();
      const item: QueuedItem | undefined = queue.list({ profile }).find((i) => i.id === id);
      if (!item || !queue.remove(id)) throw new HostError('not-found', `no queued command ${id} on this broker (it ran or was removed)`);
      jobs.queueRemoved(item);
      queueChanged();
      return {};
    },
    fleetHistory: async () => {
      const now = d.profile() === null ? [] : [sample()];
      return { online: [...samples, ...now], crashesPerDay: await crashesPerDay() };
    },
  };

  return {
    handlers,
    profileChanged() {
      samples = [];
      syncRunner();
      d.publish({ stream: 'fleet', settings: settings.get(d.profile()) });
      queueChanged();
    },
    async close() {
      closed = true;
      offConnection();
      clearInterval(sampler);
      if (queueTimer) clearTimeout(queueTimer);
      jobs.close();
      const r = runner?.runner;
      runner = undefined;
      await Promise.all([stopping, r?.stop()]);
      queue.flush();
    },
  };
}
