// The fleet part of the bridge end to end, as a page calls it through the bridge host: tags and
// saved views per broker profile, jobs on several devices of our runtime on a real broker
// (aedes) with their rows streamed and grouped, timeouts, offline devices failed or queued until
// they come back, re-runs of the failed ones, and the overview's history.
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { type BridgeEvent, type CallReply, type FleetHistory, type FleetSettings, type JobResult, type JobSummary, type QueuedCommand } from '../../../protocol/src';
import { groupResults, summarizeGroups, type DeviceResult } from '../../../protocol/src/fleet/results';
import { startDevice, startFleet, type DeviceHandle } from '../../../device-runtime/src';
import { startEmbeddedBroker, type EmbeddedBroker } from '../../../testing/brokers';
import { connectedEngine, sha256, tempDir, waitForDevices } from '../engine/test-support';
import type { Engine } from '../engine/types';
import { createBridgeHost, type BridgeClient, type Handlers } from './bridge-host';
import { createFleetHandlers, type FleetService } from './fleet-handlers';
import { createTransferStages, type TransferStages } from './transfer-stages';

let broker: EmbeddedBroker;
let engine: Engine;
const roots = tempDir('fleet-handlers-dev');
const settings = tempDir('fleet-handlers-settings');
const devices = new Map<string, DeviceHandle>();
const members = ['fh/d1', 'fh/d2', 'fh/d3', 'fh/d4'];

const boot = async (prefix: string) => {
  const d = await startDevice({ url: broker.url, prefix, root: path.join(roots.dir, prefix) });
  devices.set(prefix, d);
  await waitForDevices(engine, () => engine.device(prefix)?.presence === 'online');
  return d;
};
/** A device that has been online and stopped: the engine lists it offline. */
const stopDevice = async (prefix: string) => {
  await devices.get(prefix)!.stop();
  devices.delete(prefix);
  await waitForDevices(engine, () => engine.device(prefix)?.presence === 'offline');
};

beforeAll(async () => {
  broker = await startEmbeddedBroker();
  engine = await connectedEngine(broker.url, { depths: [2, 3] });
  for (const p of members) await boot(p);
});
afterAll(async () => {
  await engine?.disconnect();
  for (const d of devices.values()) await d.stop().catch(() => undefined);
  await broker?.close();
  roots.remove();
  settings.remove();
});

/** The fleet handlers behind a bridge host, as the app host wires them; events are recorded. */
function open(opts: { dir?: string; sampleMs?: number } = {}) {
  let profile: string | null = 'home';
  const events: BridgeEvent[] = [];
  const stages: TransferStages = createTransferStages();
  const service: FleetService = createFleetHandlers({
    engine,
    settingsDir: opts.dir ?? settings.dir,
    profile: () => profile,
    stages,
    publish: (e) => events.push(e),
    sampleMs: opts.sampleMs,
  });
  // Only the fleet operations exist here; the bridge host still parses every call with the contract.
  const client: BridgeClient = createBridgeHost(service.handlers as Handlers).connect(() => undefined);
  let n = 0;
  const call = async (op: string, args: unknown): Promise<CallReply> => (await client.call(op, { id: `c${++n}`, args })).reply;
  const ok = async <T>(op: string, args: unknown = {}): Promise<T> => {
    const r = await call(op, args);
    if (!r.ok) throw new Error(`${op}: ${r.error.code} ${r.error.message}`);
    return r.result as T;
  };
  const jobEvents = (id: string) => events.flatMap((e) => (e.stream === 'jobs' && e.job.id === id ? [e] : []));
  /** A job's table once it says `done` on the stream, rebuilt from the streamed rows. */
  const finished = async (id: string) => {
    await vi.waitFor(() => expect(jobEvents(id).some((e) => e.job.state !== 'running')).toBe(true), { timeout: 20_000 });
    const rows = new Map<string, JobResult>();
    for (const e of jobEvents(id)) for (const r of e.results) rows.set(r.prefix, r);
    return rows;
  };
  const lastQueue = () => events.flatMap((e) => (e.stream === 'queue' ? [e.items] : [])).at(-1);
  return {
    service,
    events,
    stages,
    call,
    ok,
    jobEvents,
    finished,
    lastQueue,
    useProfile(p: string | null) {
      profile = p;
      service.profileChanged();
    },
    start: (args: Record<string, unknown>) => ok<{ job: JobSummary }>('jobStart', args).then((r) => r.job),
  };
}

describe('tags and saved views', () => {
  it('keeps them per broker profile and reads them back after the app restarts', async () => {
    const dir = tempDir('fleet-handlers-tags');
    try {
      const a = open({ dir: dir.dir });
      await a.ok('setTags', { prefixes: ['fh/d1', 'fh/d2'], add: ['greenhouse'] });
      const after = await a.ok<FleetSettings>('setTags', { prefixes: ['fh/d2'], add: ['pump'], remove: ['greenhouse'] });
      expect(after.tags).toEqual({ 'fh/d1': ['greenhouse'], 'fh/d2': ['pump'] });
      await a.ok('saveView', { name: 'Pumps', selector: 'tag:pump' });
      // Every window hears of the change.
      expect(a.events.filter((e) => e.stream === 'fleet').at(-1)).toEqual({ stream: 'fleet', settings: { profile: 'home', tags: after.tags, views: [{ name: 'Pumps', selector: 'tag:pump' }] } });

      a.useProfile('work');
      expect(await a.ok('getFleetSettings')).toEqual({ profile: 'work', tags: {}, views: [] });
      expect(a.events.filter((e) => e.stream === 'fleet').at(-1)).toEqual({ stream: 'fleet', settings: { profile: 'work', tags: {}, views: [] } });
      a.useProfile(null);
      expect(await a.call('setTags', { prefixes: ['fh/d1'], add: ['x'] })).toMatchObject({ ok: false, error: { code: 'not-connected' } });
      expect(await a.call('jobStart', { action: { kind: 'eval', code: '1' }, prefixes: ['fh/d1'] })).toMatchObject({ ok: false, error: { code: 'not-connected' } });
      expect(await a.ok('getFleetSettings')).toEqual({ profile: null, tags: {}, views: [] });
      await a.service.close();

      const b = open({ dir: dir.dir });
      expect(await b.ok('getFleetSettings')).toEqual({ profile: 'home', tags: { 'fh/d1': ['greenhouse'], 'fh/d2': ['pump'] }, views: [{ name: 'Pumps', selector: 'tag:pump' }] });
      expect((await b.ok<FleetSettings>('deleteView', { name: 'Pumps' })).views).toEqual([]);
      await b.service.close();
    } finally {
      dir.remove();
    }
  });

  it('refuses bad arguments before any handler runs', async () => {
    const f = open();
    try {
      expect(await f.call('setTags', { prefixes: ['fh/d1'], add: ['two words'] })).toMatchObject({ ok: false, error: { code: 'bad-request' } });
      expect(await f.call('setTags', { prefixes: Array.from({ length: 10_001 }, (_, i) => `p/${i}`), add: ['x'] })).toMatchObject({ ok: false, error: { code: 'bad-request' } });
      expect(await f.call('setTags', { prefixes: ['a/#'], add: ['x'] })).toMatchObject({ ok: false, error: { code: 'bad-request' } });
      expect(await f.call('saveView', { name: ' ', selector: 'online' })).toMatchObject({ ok: false, error: { code: 'bad-request' } });
      expect(await f.call('jobStart', { action: { kind: 'eval', code: '' }, prefixes: ['fh/d1'] })).toMatchObject({ ok: false, error: { code: 'bad-request' } });
      expect(await f.call('jobStart', { action: { kind: 'eval', code: '1' }, prefixes: [] })).toMatchObject({ ok: false, error: { code: 'bad-request' } });
      expect(await f.call('jobStart', { action: { kind: 'eval', code: '1' }, prefixes: ['fh/d1'], timeoutMs: 10 })).toMatchObject({ ok: false, error: { code: 'bad-request' } });
      expect(await f.call('jobStart', { action: { kind: 'reset', mode: 'explode' }, prefixes: ['fh/d1'] })).toMatchObject({ ok: false, error: { code: 'bad-request' } });
      expect(await f.call('jobStart', { action: { kind: 'put', files: [{ path: '/x.py', stage: 'nope' }] }, prefixes: ['fh/d1'] })).toMatchObject({ ok: false, error: { code: 'not-found' } });
      expect(await f.call('jobGet', { job: 'no-such-job' })).toMatchObject({ ok: false, error: { code: 'not-found' } });
      expect(await f.call('queueRemove', { id: 'no-such-item' })).toMatchObject({ ok: false, error: { code: 'not-found' } });
      // The device list is complete: the engine read every retained status.
      expect(await f.ok('getDiscovery')).toMatchObject({ phase: 'listed', incomplete: false });
    } finally {
      await f.service.close();
    }
  });
});

describe('jobs on many devices', () => {
  it('streams every device’s row, groups identical outputs and keeps the table for a reloaded page', async () => {
    const f = open();
    try {
      const job = await f.start({ action: { kind: 'eval', code: 'device.prefix === "fh/d3" ? "2.4.1" : "2.5.0"' }, prefixes: members, concurrency: 2 });
      expect(job).toMatchObject({ kind: 'eval', state: 'running', total: 4, title: 'device.prefix === "fh/d3" ? "2.4.1" : "2.5.0"' });
      const rows = await f.finished(job.id);
      expect([...rows.values()].map((r) => [r.prefix, r.status, r.output]).sort()).toEqual([
        ['fh/d1', 'ok', "'2.5.0'"],
        ['fh/d2', 'ok', "'2.5.0'"],
        ['fh/d3', 'ok', "'2.4.1'"],
        ['fh/d4', 'ok', "'2.5.0'"],
      ]);
      // Rows travel grouped: fewer events than row changes (each device starts, then ends).
      expect(f.jobEvents(job.id).length).toBeLessThan(8);

      const { job: summary, results } = await f.ok<{ job: JobSummary; results: JobResult[] }>('jobGet', { job: job.id });
      expect(summary).toMatchObject({ state: 'done', total: 4, counts: { ok: 4 }, ended: expect.any(Number) });
      expect(results.map((r) => r.prefix)).toEqual(members);
      const final = results.filter((r): r is JobResult & DeviceResult => r.status !== 'running');
      expect(summarizeGroups(groupResults(final))).toEqual(["3 devices → '2.5.0'", "1 device → '2.4.1'"]);
      expect((await f.ok<{ jobs: JobSummary[] }>('jobList')).jobs[0]).toMatchObject({ id: job.id });
    } finally {
      await f.service.close();
    }
  });

  it('sends a big job’s rows grouped, at most once per flush interval, never one event per row', async () => {
    const many = await startFleet({ url: broker.url, prefix: 'fh/many', root: path.join(roots.dir, 'many'), count: 30 });
    const f = open();
    try {
      const prefixes = many.devices.map((d) => d.prefix);
      await waitForDevices(engine, () => prefixes.every((p) => engine.device(p)?.presence === 'online'));
      const t0 = Date.now();
      const job = await f.start({ action: { kind: 'eval', code: '6 * 7' }, prefixes, concurrency: 8 });
      const rows = await f.finished(job.id);
      const elapsed = Date.now() - t0;
      expect([...rows.values()].filter((r) => r.status === 'ok' && r.output === '42')).toHaveLength(30);
      // 60 row changes (each device starts and ends); the stream carries them per 100 ms flush.
      const events = f.jobEvents(job.id).length;
      expect(events).toBeLessThanOrEqual(Math.floor(elapsed / 100) + 2);
    } finally {
      await f.service.close();
      await many.stop();
    }
  });

  it('ends a silent device as timeout and a device known to be offline at once, and re-runs only those', async () => {
    const f = open();
    await stopDevice('fh/d4');
    try {
      const slow = 'device.prefix === "fh/d2" ? new Promise((r) => setTimeout(() => r("late"), 4000)) : "quick"';
      const job = await f.start({ action: { kind: 'eval', code: slow }, prefixes: members, timeoutMs: 1_000, concurrency: 4 });
      const rows = await f.finished(job.id);
      expect(rows.get('fh/d1')).toMatchObject({ status: 'ok', output: "'quick'" });
      expect(rows.get('fh/d2')).toMatchObject({ status: 'timeout', error: 'no result within 1 s' });
      expect(rows.get('fh/d4')).toMatchObject({ status: 'offline', error: 'the device is offline', ms: 0 });

      await boot('fh/d4');
      const rerun = (await f.ok<{ job: JobSummary }>('jobRerun', { job: job.id })).job;
      expect(rerun).toMatchObject({ rerunOf: job.id, total: 2 });
      const again = await f.finished(rerun.id);
      expect([...again.keys()].sort()).toEqual(['fh/d2', 'fh/d4']);
      expect(again.get('fh/d4')).toMatchObject({ status: 'ok', output: "'quick'" });
    } finally {
      await f.service.close();
    }
  });

  it('puts staged files on every device, verified, and cancels a job whose devices are still busy', async () => {
    const f = open();
    try {
      const data = randomBytes(5_000);
      const staged = f.stages.create(data.length, 'blob.bin');
      f.stages.append(staged, 0, data);
      const job = await f.start({ action: { kind: 'put', files: [{ path: '/blob.bin', stage: staged }] }, prefixes: members.slice(0, 2) });
      expect(job.title).toBe('/blob.bin');
      const rows = await f.finished(job.id);
      expect([...rows.values()].map((r) => [r.status, r.output ?? r.error])).toEqual(members.slice(0, 2).map(() => ['ok', `/blob.bin: ${data.length} bytes, sha256 ${sha256(data).slice(0, 12)}`]));
      for (const p of members.slice(0, 2)) expect(await engine.sha256(p, '/blob.bin')).toBe(sha256(data));
      // The stage was used up; the job keeps the bytes for a re-run.
      expect(f.stages.reserved()).toBe(0);

      const long = await f.start({ action: { kind: 'eval', code: 'new Promise((r) => setTimeout(() => r(1), 3000))' }, prefixes: members, concurrency: 1 });
      await vi.waitFor(() => expect(f.jobEvents(long.id).some((e) => e.results.some((r) => r.status === 'running'))).toBe(true));
      await f.ok('jobCancel', { job: long.id });
      const cancelled = await f.finished(long.id);
      expect([...cancelled.values()].map((r) => r.status)).toEqual(['cancelled', 'cancelled', 'cancelled', 'cancelled']);
      expect((await f.ok<{ job: JobSummary }>('jobGet', { job: long.id })).job).toMatchObject({ state: 'cancelled', counts: { cancelled: 4 } });
    } finally {
      await f.service.close();
    }
  });
});

describe('the command queue', () => {
  it('queues the command of an offline device, runs it when the device is back, and changes the job’s row', async () => {
    const f = open();
    const P = 'fh/d3';
    await stopDevice(P);
    try {
      const job = await f.start({ action: { kind: 'eval', code: '"hello " + device.prefix' }, prefixes: [P, 'fh/d1'], offline: 'queue' });
      await vi.waitFor(() => expect(f.jobEvents(job.id).some((e) => e.job.state === 'done')).toBe(true), { timeout: 10_000 });
      const { results } = await f.ok<{ results: JobResult[] }>('jobGet', { job: job.id });
      expect(results.map((r) => [r.prefix, r.status])).toEqual([
        [P, 'queued'],
        ['fh/d1', 'ok'],
      ]);
      const listed = (await f.ok<{ items: QueuedCommand[] }>('queueList', { prefix: P })).items;
      expect(listed).toEqual([expect.objectContaining({ prefix: P, kind: 'eval', title: '"hello " + device.prefix', job: job.id, attempts: 0 })]);
      await vi.waitFor(() => expect(f.lastQueue()).toEqual(listed));
      // Another broker's queue is another queue.
      f.useProfile('work');
      expect((await f.ok<{ items: QueuedCommand[] }>('queueList', {})).items).toEqual([]);
      f.useProfile('home');

      await boot(P);
      await vi.waitFor(() => expect(f.jobEvents(job.id).flatMap((e) => e.results).at(-1)).toMatchObject({ prefix: P, status: 'ok', output: "'hello fh/d3'" }), { timeout: 15_000 });
      expect((await f.ok<{ job: JobSummary }>('jobGet', { job: job.id })).job.counts).toEqual({ ok: 2 });
      await vi.waitFor(() => expect(f.lastQueue()).toEqual([]));
    } finally {
      await f.service.close();
    }
  });

  it('keeps queued commands across a restart and lets the user remove one, which ends its row', async () => {
    const dir = tempDir('fleet-handlers-queue');
    const P = 'fh/d2';
    await stopDevice(P);
    try {
      const a = open({ dir: dir.dir });
      const job = await a.start({ action: { kind: 'reset', mode: 'soft' }, prefixes: [P], offline: 'queue' });
      await vi.waitFor(async () => expect((await a.ok<{ items: QueuedCommand[] }>('queueList', {})).items).toHaveLength(1));
      const [item] = (await a.ok<{ items: QueuedCommand[] }>('queueList', {})).items;
      expect(item).toMatchObject({ kind: 'reset', title: 'reset soft', job: job.id });
      await a.ok('queueRemove', { id: item!.id });
      await vi.waitFor(() => expect(a.jobEvents(job.id).flatMap((e) => e.results).at(-1)).toMatchObject({ status: 'cancelled', error: 'removed from the queue' }));
      await a.start({ action: { kind: 'eval', code: '"after restart"' }, prefixes: [P], offline: 'queue' });
      await a.service.close();

      // The app restarts: the queue is read back and runs once the device is back.
      const b = open({ dir: dir.dir });
      expect((await b.ok<{ items: QueuedCommand[] }>('queueList', {})).items).toEqual([expect.objectContaining({ prefix: P, title: '"after restart"' })]);
      await boot(P);
      await vi.waitFor(async () => expect((await b.ok<{ items: QueuedCommand[] }>('queueList', {})).items).toEqual([]), { timeout: 15_000 });
      await b.service.close();
    } finally {
      dir.remove();
    }
  });

  it('keeps a sync put’s “only changed files” for a sleeping device: on its wake, the file it already holds is left alone', async () => {
    const f = open();
    const P = 'fh/nap';
    const root = path.join(roots.dir, P);
    const same = new TextEncoder().encode('print("deployed before")\n');
    const fresh = new TextEncoder().encode('print("new")\n');
    // What an earlier deploy left on the board.
    mkdirSync(root, { recursive: true });
    writeFileSync(path.join(root, 'same.py'), same);
    const before = statSync(path.join(root, 'same.py'));
    const d = await startDevice({ url: broker.url, prefix: P, root, sleepCycleMs: 2000, awakeMs: 300 });
    try {
      await waitForDevices(engine, () => engine.device(P)?.presence === 'offline' && engine.device(P)?.offlineReason === 'sleep');
      const stage = (data: Uint8Array, name: string) => {
        const s = f.stages.create(data.length, name);
        f.stages.append(s, 0, data);
        return s;
      };
      const files = [
        { path: '/same.py', stage: stage(same, 'same.py') },
        { path: '/new.py', stage: stage(fresh, 'new.py') },
      ];
      const job = await f.start({ action: { kind: 'put', files, onlyChanged: true }, prefixes: [P], offline: 'queue' });
      // Queued, on disk before the call returns, with the flag: an app restart before the wake would still sync.
      const onDisk = JSON.parse(readFileSync(path.join(settings.dir, 'queue.json'), 'utf8')) as { items: Array<{ prefix: string; action: { onlyChanged?: boolean } }> };
      expect(onDisk.items.filter((i) => i.prefix === P).map((i) => i.action.onlyChanged)).toEqual([true, true]);
      await vi.waitFor(() => expect(f.jobEvents(job.id).flatMap((e) => e.results)).toContainEqual(expect.objectContaining({ prefix: P, status: 'queued' })));

      await vi.waitFor(() => expect(f.jobEvents(job.id).flatMap((e) => e.results).at(-1)).toMatchObject({ prefix: P, status: 'ok' }), { timeout: 15_000 });
      const row = f.jobEvents(job.id).flatMap((e) => e.results).at(-1)!;
      expect(row.output).toBe(`/same.py: unchanged\n/new.py: ${fresh.length} bytes, sha256 ${sha256(fresh).slice(0, 12)}`);
      // Not rewritten: a device write replaces the file, so a new one would be another inode.
      const after = statSync(path.join(root, 'same.py'));
      expect([after.ino, after.mtimeMs]).toEqual([before.ino, before.mtimeMs]);
      expect(readFileSync(path.join(root, 'new.py'))).toEqual(Buffer.from(fresh));
    } finally {
      await d.stop();
      await f.service.close();
    }
  });

  it('refuses to queue a put too large to carry in the queue file, before the stage is used', async () => {
    const f = open();
    try {
      const big = 4 * 1024 * 1024 + 1;
      const staged = f.stages.create(big, 'big.bin');
      f.stages.append(staged, 0, new Uint8Array(big));
      const r = await f.call('jobStart', { action: { kind: 'put', files: [{ path: '/big.bin', stage: staged }] }, prefixes: ['fh/d1'], offline: 'queue' });
      expect(r).toMatchObject({ ok: false, error: { code: 'invalid-argument', message: expect.stringMatching(/too large to queue/) } });
      expect(f.stages.reserved()).toBe(big);
    } finally {
      await f.service.close();
    }
  });
});

describe('the fleet overview', () => {
  it('samples online devices over time and counts crashes for each of the last 14 days', async () => {
    const f = open({ sampleMs: 50 });
    try {
      await vi.waitFor(async () => expect((await f.ok<FleetHistory>('fleetHistory')).online.length).toBeGreaterThan(2));
      const h = await f.ok<FleetHistory>('fleetHistory');
      const online = engine.devices().filter((d) => d.presence === 'online').length;
      expect(h.online.at(-1)).toMatchObject({ online, total: engine.devices().length });
      expect(h.crashesPerDay).toHaveLength(14);
      expect(h.crashesPerDay.at(-1)!.day).toBe(new Date().toISOString().slice(0, 10));
      expect(h.crashesPerDay.every((c) => c.count === 0)).toBe(true);
      f.useProfile('work');
      expect((await f.ok<FleetHistory>('fleetHistory')).online.length).toBe(1);
    } finally {
      await f.service.close();
    }
  });

  it('takes crashes per day from the log store when there is one', async () => {
    const today = new Date().toISOString().slice(0, 10);
    const service = createFleetHandlers({
      engine,
      settingsDir: settings.dir,
      profile: () => 'home',
      stages: createTransferStages(),
      publish: () => undefined,
      crashesPerDay: async (profile, days) => (profile === 'home' && days === 14 ? [{ day: '1999-01-01', count: 9 }, { day: today, count: 3 }] : []),
    });
    try {
      const h = await service.handlers.fleetHistory({}, { signal: new AbortController().signal, client: undefined as never });
      expect(h.crashesPerDay.at(-1)).toEqual({ day: today, count: 3 });
      expect(h.crashesPerDay.reduce((n, c) => n + c.count, 0)).toBe(3);
    } finally {
      await service.close();
    }
  });
});
