// The app's jobs: one action on many devices, run with the engine's scheduler (run-many.ts) and
// kept in memory with its results table so a reloaded page can show it again. Rows stream on the
// `jobs` stream, changed rows grouped per flush (a thousand devices are a few events, not a
// thousand). Devices that are offline either fail at once or wait in the command queue; the
// queue runner reports back here and the row changes when the device has had its turn.
import { randomBytes } from 'node:crypto';
import type { BridgeEvent, JobResult, JobSummary } from '../../../protocol/src';
import type { CommandQueue, QueuedItem } from '../engine/fleet/queue';
import { queuedActions } from '../engine/fleet/queue';
import { actionTitle, enginePresence, failedPrefixes, fleetAction, runMany, type DeviceResult, type FleetAction } from '../engine/fleet/run-many';
import type { Engine } from '../engine/types';
import { HostError } from './errors';

/** Jobs kept with their tables (and a put's bytes, for a re-run). */
export const KEPT_JOBS = 50;
/** A put's bytes kept for re-runs, over all kept jobs; older jobs' files are let go first. */
export const KEPT_PUT_BYTES = 256 * 1024 * 1024;
/** How often changed rows go out on the `jobs` stream. */
const FLUSH_MS = 100;

export interface JobOptions {
  concurrency: number;
  timeoutMs: number;
  offline: 'fail' | 'queue';
}

export interface JobsDeps {
  engine: Engine;
  queue: CommandQueue;
  /** The broker profile jobs run against now (null: not connected). */
  profile(): string | null;
  publish(e: BridgeEvent): void;
  /** Called once a device's commands are in the queue (the queue stream, the runner). */
  queued(prefix: string): void;
  flushMs?: number;
  /** Default KEPT_PUT_BYTES (tests use less). */
  keptPutBytes?: number;
}

export interface Jobs {
  start(action: FleetAction, prefixes: readonly string[], opts: JobOptions, rerunOf?: string): JobSummary;
  rerun(id: string, which: 'failed' | 'all'): JobSummary;
  cancel(id: string): void;
  get(id: string): { job: JobSummary; results: JobResult[] };
  /** The current profile's jobs, newest first. */
  list(): JobSummary[];
  /** Resolves once the job's scheduler has finished (tests). */
  settled(id: string): Promise<void>;
  /** The queue runner started, finished or dropped one of a job's commands. */
  queueStarted(item: QueuedItem): void;
  queueResult(item: QueuedItem, r: DeviceResult): void;
  /** The device went away before answering: the row waits in the queue again. */
  queueMissed(item: QueuedItem, attempts: number): void;
  queueRemoved(item: QueuedItem): void;
  close(): void;
}

interface QueuedRow {
  /** Commands still waiting for this device (a put of several files queues one per file). */
  items: Set<string>;
  outputs: string[];
  failure?: DeviceResult;
  ms: number;
}

interface Job {
  summary: JobSummary;
  profile: string;
  /** Undefined once a put's files were let go to stay within KEPT_PUT_BYTES. */
  action?: FleetAction;
  opts: JobOptions;
  prefixes: string[];
  rows: Map<string, JobResult>;
  queued: Map<string, QueuedRow>;
  ac: AbortController;
  done: Promise<void>;
}

export function createJobs(d: JobsDeps): Jobs {
  const jobs = new Map<string, Job>();
  const dirty = new Map<string, Set<string>>();
  let timer: ReturnType<typeof setTimeout> | undefined;
  let closed = false;

  const flush = () => {
    timer = undefined;
    const out = [...dirty];
    dirty.clear();
    for (const [id, prefixes] of out) {
      const job = jobs.get(id);
      if (!job) continue;
      d.publish({ stream: 'jobs', job: { ...job.summary, counts: { ...job.summary.counts } }, results: [...prefixes].flatMap((p) => job.rows.get(p) ?? []) });
    }
  };
  const touch = (job: Job, prefix?: string) => {
    let set = dirty.get(job.summary.id);
    if (!set) dirty.set(job.summary.id, (set = new Set()));
    if (prefix !== undefined) set.add(prefix);
    if (!closed) timer ??= setTimeout(flush, d.flushMs ?? FLUSH_MS);
  };
  const setRow = (job: Job, row: Omit<JobResult, 'at'>) => {
    const counts = job.summary.counts;
    const old = job.rows.get(row.prefix);
    if (old) counts[old.status] = (counts[old.status] ?? 1) - 1;
    else counts.pending = (counts.pending ?? 1) - 1;
    counts[row.status] = (counts[row.status] ?? 0) + 1;
    for (const k of Object.keys(counts)) if (counts[k] === 0) delete counts[k];
    job.rows.set(row.prefix, { ...row, at: Date.now() });
    touch(job, row.prefix);
  };
  const find = (id: string): Job => {
    const job = jobs.get(id);
    if (!job) throw new HostError('not-found', `no job ${id} (only the last ${KEPT_JOBS} are kept)`);
    return job;
  };
  const putBytes = (a: FleetAction | undefined) => (a?.kind === 'put' ? a.files.reduce((n, f) => n + f.data.length, 0) : 0);
  const evict = () => {
    // Oldest first, but never one still running: its rows are still coming in.
    for (const [id, job] of jobs) {
      if (jobs.size <= KEPT_JOBS) break;
      if (job.summary.state !== 'running') {
        jobs.delete(id);
        dirty.delete(id);
      }
    }
    let kept = 0;
    for (const job of [...jobs.values()].reverse()) {
      kept += putBytes(job.action);
      if (kept > (d.keptPutBytes ?? KEPT_PUT_BYTES) && job.summary.state !== 'running') job.action = undefined;
    }
  };
  /** The job and row a queued command reports to, while both are kept. */
  const queuedRow = (item: QueuedItem): [Job, QueuedRow] | undefined => {
    const job = item.job === undefined ? undefined : jobs.get(item.job);
    const q = job?.queued.get(item.prefix);
    return job && q?.items.has(item.id) ? [job, q] : undefined;
  };

  /** One of a device's queued commands for a job ended; its row changes once all of them have. */
  function queueEnded(item: QueuedItem, r: DeviceResult): void {
    const found = queuedRow(item);
    if (!found) return;
    const [job, q] = found;
    q.items.delete(item.id);
    q.ms += r.ms;
    if (r.status === 'ok') q.outputs.push(r.output ?? '');
    else q.failure ??= r;
    if (q.items.size > 0) return;
    job.queued.delete(item.prefix);
    if (q.failure) setRow(job, { prefix: item.prefix, status: q.failure.status, error: q.failure.error ?? q.failure.status, ms: q.ms });
    else setRow(job, { prefix: item.prefix, status: 'ok', output: q.outputs.join('\n'), ms: q.ms });
  }

  function start(action: FleetAction, prefixes: readonly string[], opts: JobOptions, rerunOf?: string): JobSummary {
    const profile = d.profile();
    if (profile === null) throw new HostError('not-connected', 'connect to a broker first');
    const unique = [...new Set(prefixes)];
    const queued = opts.offline === 'queue' ? queuedActions(action) : [];
    const id = randomBytes(9).toString('base64url');
    const job: Job = {
      summary: {
        id,
        kind: action.kind,
        title: actionTitle(action),
        created: Date.now(),
        state: 'running',
        total: unique.length,
        counts: { pending: unique.length },
        ...(rerunOf === undefined ? {} : { rerunOf }),
      },
      profile,
      action,
      opts,
      prefixes: unique,
      rows: new Map(),
      queued: new Map(),
      ac: new AbortController(),
      done: Promise.resolve(),
    };
    jobs.set(id, job);
    evict();
    const presence = enginePresence(d.engine);
    let toRun = unique;
    if (opts.offline === 'queue') {
      // The devices offline now are queued in one write of the queue file, not one each.
      const offline = unique.filter((p) => presence(p) === 'offline');
      if (offline.length > 0) {
        toRun = unique.filter((p) => presence(p) !== 'offline');
        try {
          const items = d.queue.addMany(profile, offline, queued, { job: id, timeoutMs: opts.timeoutMs });
          const byPrefix = new Map<string, string[]>();
          for (const i of items) byPrefix.set(i.prefix, [...(byPrefix.get(i.prefix) ?? []), i.id]);
          for (const p of offline) {
            job.queued.set(p, { items: new Set(byPrefix.get(p)), outputs: [], ms: 0 });
            setRow(job, { prefix: p, status: 'queued', error: 'offline: queued until it is back online', ms: 0 });
          }
          for (const p of offline) d.queued(p);
        } catch (e) {
          const why = e instanceof Error ? e.message : String(e);
          for (const p of offline) setRow(job, { prefix: p, status: 'offline', error: `the device is offline and could not be queued: ${why}`, ms: 0 });
        }
      }
    }
    const enqueue =
      opts.offline === 'queue'
        ? (prefix: string) => {
            const items = d.queue.addMany(profile, [prefix], queued, { job: id, timeoutMs: opts.timeoutMs });
            job.queued.set(prefix, { items: new Set(items.map((i) => i.id)), outputs: [], ms: 0 });
          }
        : undefined;
    job.done = runMany(toRun, fleetAction(d.engine, action, opts.timeoutMs), {
      concurrency: opts.concurrency,
      timeoutMs: opts.timeoutMs,
      signal: job.ac.signal,
      presence,
      enqueue,
      onStart: (prefix) => setRow(job, { prefix, status: 'running', ms: 0 }),
      onResult: (r) => {
        setRow(job, r);
        // Only now: the runner may start the command at once, and its row must say queued first.
        if (r.status === 'queued') d.queued(r.prefix);
      },
    }).then(
      () => {
        if (job.summary.state === 'running') job.summary.state = 'done';
        job.summary.ended = Date.now();
        touch(job);
      },
      (e: unknown) => {
        // runMany reports every device's failure as a row; this is a bug, said once, not a stuck job.
        console.warn(`mqboard: job ${id} stopped: ${e instanceof Error ? e.message : String(e)}`);
        job.summary.state = 'done';
        job.summary.ended = Date.now();
        touch(job);
      },
    );
    touch(job);
    return { ...job.summary, counts: { ...job.summary.counts } };
  }

  return {
    start,
    rerun(id, which) {
      const job = find(id);
      if (job.profile !== d.profile()) throw new HostError('invalid-argument', `job ${id} ran on another broker; connect to it to run the job again`);
      if (job.summary.state === 'running') throw new HostError('invalid-argument', `job ${id} is still running`);
      if (!job.action) throw new HostError('not-found', `the files of job ${id} are no longer kept (newer jobs needed the room); stage them again`);
      // A device that never got a final row (the job was cancelled) counts as failed.
      const rows = job.prefixes.map((p): DeviceResult => {
        const r = job.rows.get(p);
        return { prefix: p, status: !r || r.status === 'running' ? 'cancelled' : r.status, ms: 0 };
      });
      const again = which === 'all' ? job.prefixes : failedPrefixes(rows);
      if (again.length === 0) throw new HostError('invalid-argument', `every device of job ${id} ended ok (or waits in the queue): nothing to run again`);
      return start(job.action, again, job.opts, id);
    },
    cancel(id) {
      const job = find(id);
      if (job.summary.state !== 'running') return;
      job.summary.state = 'cancelled';
      job.ac.abort();
      touch(job);
    },
    get(id) {
      const job = find(id);
      return { job: { ...job.summary, counts: { ...job.summary.counts } }, results: job.prefixes.flatMap((p) => job.rows.get(p) ?? []) };
    },
    list() {
      const profile = d.profile();
      return [...jobs.values()]
        .filter((j) => j.profile === profile)
        .reverse()
        .map((j) => ({ ...j.summary, counts: { ...j.summary.counts } }));
    },
    settled: (id) => find(id).done,
    queueStarted(item) {
      const found = queuedRow(item);
      if (found) setRow(found[0], { prefix: item.prefix, status: 'running', ms: 0 });
    },
    queueResult: (item, r) => queueEnded(item, r),
    queueMissed(item, attempts) {
      const found = queuedRow(item);
      if (found) setRow(found[0], { prefix: item.prefix, status: 'queued', error: `the device went away before answering (${attempts}×): queued until it is back`, ms: 0 });
    },
    queueRemoved: (item) => queueEnded(item, { prefix: item.prefix, status: 'cancelled', error: 'removed from the queue', ms: 0 }),
    close() {
      closed = true;
      if (timer) clearTimeout(timer);
      timer = undefined;
      for (const job of jobs.values()) job.ac.abort();
    },
  };
}
