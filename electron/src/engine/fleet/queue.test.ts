// The command queue: kept in a file that survives restarts and bad contents, and run against a
// real broker (aedes) as devices of our runtime and original boards come back online.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDevice, type DeviceHandle } from '../../../../device-runtime/src';
import { startOriginalBoard, type OriginalBoard } from '../../../../device-runtime/src/original';
import { startEmbeddedBroker, type EmbeddedBroker } from '../../../../testing/brokers';
import { connectedEngine, sha256, tempDir, waitForDevices } from '../test-support';
import type { Engine } from '../types';
import { MAX_QUEUED_PUT_BYTES, openCommandQueue, SAVE_DELAY_MS, queuedActions, queuedPut, queuedTitle, startQueueRunner, type QueuedItem } from './queue';
import { enginePresence, evalAction, runMany, type DeviceResult } from './run-many';

const pythonMissing = spawnSync('python3', ['--version']).status === 0 ? undefined : 'python3 is missing: original-board queue test skipped';

describe('the queue file', () => {
  const dir = tempDir('queue-file');
  afterAll(() => dir.remove());
  let n = 0;
  const fresh = () => path.join(dir.dir, `q${++n}`, 'queue.json');

  it('keeps commands across reopening, in order, in a file only the user can read', () => {
    const file = fresh();
    const q = openCommandQueue(file);
    const a = q.add('home', 'greenhouse/01', { kind: 'eval', code: 'print(1)' });
    q.add('home', 'greenhouse/02', queuedPut('/x.py', new Uint8Array([1, 2, 3])));
    q.add('work', 'greenhouse/01', { kind: 'reset', mode: 'soft' });
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const again = openCommandQueue(file);
    expect(again.problem).toBeUndefined();
    expect(again.list().map((i) => [i.profile, i.prefix, i.action.kind])).toEqual([
      ['home', 'greenhouse/01', 'eval'],
      ['home', 'greenhouse/02', 'put'],
      ['work', 'greenhouse/01', 'reset'],
    ]);
    expect(again.list({ profile: 'home', prefix: 'greenhouse/01' })).toEqual([a]);
    expect(again.remove(a.id)).toBe(true);
    expect(again.remove(a.id)).toBe(false);
    expect(openCommandQueue(file).list()).toHaveLength(2);
    // No temporary files are left behind.
    expect(readdirSync(path.dirname(file))).toEqual(['queue.json']);
  });

  it('writes commands that ran with the next moment’s changes, not one write each, and at once on flush', async () => {
    const file = fresh();
    const q = openCommandQueue(file);
    const [a, b, c] = q.addMany('home', ['a', 'b', 'c'], [{ kind: 'eval', code: '1' }]);
    q.ran(a!.id);
    q.ran(b!.id);
    expect(q.list().map((i) => i.prefix)).toEqual(['c']);
    // Not yet on disk: a crash now would run them once more, never lose one.
    expect(openCommandQueue(file).list()).toHaveLength(3);
    q.flush();
    expect(openCommandQueue(file).list().map((i) => i.prefix)).toEqual(['c']);
    q.ran(c!.id);
    await new Promise((r) => setTimeout(r, SAVE_DELAY_MS + 100));
    expect(openCommandQueue(file).list()).toEqual([]);
  });

  it('keeps a file it cannot read beside it and starts empty, saying so', () => {
    const file = fresh();
    openCommandQueue(file).add('home', 'a', { kind: 'eval', code: '1' });
    writeFileSync(file, '{"version":1,"items":[');
    const q = openCommandQueue(file);
    expect(q.problem).toMatch(/is not JSON .* the file was kept as .*queue\.json\.unreadable-\d+$/);
    expect(q.list()).toEqual([]);
    const aside = readdirSync(path.dirname(file)).find((f) => f.includes('unreadable'))!;
    expect(readFileSync(path.join(path.dirname(file), aside), 'utf8')).toBe('{"version":1,"items":[');
    q.add('home', 'b', { kind: 'eval', code: '2' });
    expect(openCommandQueue(file).list().map((i) => i.prefix)).toEqual(['b']);
  });

  it('loads the commands it can read and keeps a copy of the whole file when some are bad', () => {
    const file = fresh();
    const q = openCommandQueue(file);
    const good = q.add('home', 'a', { kind: 'eval', code: '1' });
    writeFileSync(file, JSON.stringify({ version: 1, items: [good, { ...good, id: 'x', action: { kind: 'format-disk' } }] }));
    const again = openCommandQueue(file);
    expect(again.list()).toEqual([good]);
    expect(again.problem).toMatch(/^1 queued command in .* could not be read; the file as it was is kept as /);
  });

  it('queues an action with one command per file, titled in one line, with the job it belongs to', () => {
    const actions = queuedActions({ kind: 'put', files: [{ path: '/a.py', data: new Uint8Array([1]) }, { path: '/b.py', data: new Uint8Array([2]) }] });
    expect(actions.map((a) => queuedTitle(a))).toEqual(['/a.py', '/b.py']);
    expect(queuedTitle({ kind: 'eval', code: 'x = 1\nprint(x)' })).toBe('x = 1 ⏎ print(x)');
    const file = fresh();
    openCommandQueue(file).add('home', 'a', actions[0]!, { job: 'job-1', timeoutMs: 90_000 });
    expect(openCommandQueue(file).list()).toEqual([expect.objectContaining({ job: 'job-1', timeoutMs: 90_000, action: actions[0] })]);
    expect(() => queuedActions({ kind: 'put', files: [{ path: '/big.bin', data: new Uint8Array(MAX_QUEUED_PUT_BYTES + 1) }] })).toThrow(/at most/);
  });

  it('keeps a put’s sync flag (only changed files) across reopening, and reads puts queued before the flag existed', () => {
    const file = fresh();
    const [synced] = queuedActions({ kind: 'put', files: [{ path: '/main.py', data: new Uint8Array([1]) }], onlyChanged: true });
    const [plain] = queuedActions({ kind: 'put', files: [{ path: '/main.py', data: new Uint8Array([1]) }] });
    expect(synced).toMatchObject({ kind: 'put', onlyChanged: true });
    expect(plain).not.toHaveProperty('onlyChanged');
    const q = openCommandQueue(file);
    q.add('home', 'a', synced!);
    // An entry as an older version wrote it: a put with no flag at all.
    const old = { id: 'old-1', profile: 'home', prefix: 'b', action: { kind: 'put', path: '/old.py', data: 'AQ==' }, queuedAt: 1, attempts: 0 };
    const written = JSON.parse(readFileSync(file, 'utf8')) as { version: 1; items: unknown[] };
    writeFileSync(file, JSON.stringify({ ...written, items: [...written.items, old] }));
    const again = openCommandQueue(file);
    expect(again.problem).toBeUndefined();
    expect(again.list().map((i) => i.action)).toEqual([synced, old.action]);
  });

  it('queues actions for many devices at once, or none when the files would not fit', () => {
    const file = fresh();
    const q = openCommandQueue(file);
    const prefixes = Array.from({ length: 2000 }, (_, i) => `site/${i}`);
    const items = q.addMany('home', prefixes, [{ kind: 'eval', code: '1' }, { kind: 'reset', mode: 'soft' }], { job: 'job-9' });
    expect(items).toHaveLength(4000);
    expect(openCommandQueue(file).list({ prefix: 'site/1999' }).map((i) => [i.action.kind, i.job])).toEqual([
      ['eval', 'job-9'],
      ['reset', 'job-9'],
    ]);
    // 4 MiB for each of 17 devices is more than the queue carries in files.
    const put = queuedPut('/fw.bin', new Uint8Array(MAX_QUEUED_PUT_BYTES));
    expect(() => q.addMany('home', prefixes.slice(0, 17), [put])).toThrow(/queued files would take more than 64 MiB/);
    expect(() => q.addMany('home', Array.from({ length: 6001 }, (_, i) => `more/${i}`), [{ kind: 'eval', code: '2' }])).toThrow(/the command queue is full/);
    expect(openCommandQueue(file).list()).toHaveLength(4000);
  });

  it('refuses a put too large to carry, and an action it does not know', () => {
    expect(() => queuedPut('/big.bin', new Uint8Array(MAX_QUEUED_PUT_BYTES + 1))).toThrow(/at most 4194304 bytes/);
    const q = openCommandQueue(fresh());
    expect(() => q.add('home', 'a', { kind: 'erase' } as never)).toThrow();
    expect(q.list()).toEqual([]);
  });
});

describe('running queued commands when devices come back', () => {
  let broker: EmbeddedBroker;
  let engine: Engine;
  const roots = tempDir('queue-run');
  const store = tempDir('queue-run-store');
  const handles: DeviceHandle[] = [];
  const boot = async (prefix: string) => {
    const d = await startDevice({ url: broker.url, prefix, root: path.join(roots.dir, prefix) });
    handles.push(d);
    return d;
  };
  /** A device that has been online and stopped: the engine lists it offline. */
  const offlineDevice = async (prefix: string) => {
    const d = await boot(prefix);
    await waitForDevices(engine, () => engine.device(prefix)?.presence === 'online');
    await d.stop();
    await waitForDevices(engine, () => engine.device(prefix)?.presence === 'offline');
  };
  /** Results as the runner reports them, and a promise for the n-th. */
  const collector = () => {
    const got: Array<[QueuedItem, DeviceResult]> = [];
    const waiters: Array<{ n: number; resolve: () => void }> = [];
    return {
      got,
      onResult: (i: QueuedItem, r: DeviceResult) => {
        got.push([i, r]);
        for (const w of waiters.filter((x) => got.length >= x.n)) w.resolve();
      },
      until: (n: number) => new Promise<void>((resolve) => (got.length >= n ? resolve() : waiters.push({ n, resolve }))),
    };
  };

  beforeAll(async () => {
    broker = await startEmbeddedBroker();
    engine = await connectedEngine(broker.url, { depths: [2] });
  });
  afterAll(async () => {
    await engine?.disconnect();
    for (const d of handles) await d.stop().catch(() => undefined);
    await broker?.close();
    roots.remove();
    store.remove();
  });

  it('queues what an offline device missed and runs it, in order, when it is back, after an app restart', async () => {
    const P = 'q/sleeper';
    await offlineDevice(P);
    const file = path.join(store.dir, 'restart.json');
    const q1 = openCommandQueue(file);
    const runner1 = startQueueRunner({ engine, queue: q1, profile: 'home' });
    const first = await runMany([P], evalAction(engine, '1'), {
      presence: enginePresence(engine),
      enqueue: (p) => q1.add('home', p, { kind: 'eval', code: '"first"' }),
    });
    expect(first[0]).toMatchObject({ status: 'queued' });
    const data = new TextEncoder().encode('queued = True\n');
    q1.add('home', P, queuedPut('/queued.py', data));
    q1.add('elsewhere', P, { kind: 'eval', code: '"other broker"' });
    await runner1.stop();

    // The app restarts: a new engine, the queue read back from its file.
    const engine2 = await connectedEngine(broker.url, { depths: [2] });
    await waitForDevices(engine2, () => engine2.device(P)?.presence === 'offline');
    const q2 = openCommandQueue(file);
    const { got, onResult, until } = collector();
    const runner2 = startQueueRunner({ engine: engine2, queue: q2, profile: 'home', onResult });
    try {
      await boot(P);
      await until(2);
      await runner2.idle();
      expect(got.map(([i, r]) => [i.action.kind, r.prefix, r.status, r.output])).toEqual([
        ['eval', P, 'ok', "'first'"],
        ['put', P, 'ok', `/queued.py: ${data.length} bytes, sha256 ${sha256(data).slice(0, 12)}`],
      ]);
      expect(await engine2.sha256(P, '/queued.py')).toBe(sha256(data));
      // What belongs to another broker profile stays queued.
      expect(openCommandQueue(file).list().map((i) => i.profile)).toEqual(['elsewhere']);
    } finally {
      await runner2.stop();
      await engine2.disconnect();
    }
  });

  it('keeps a command whose device dropped off mid-run for its next appearance', async () => {
    const P = 'q/flaky';
    const d = await boot(P);
    await waitForDevices(engine, () => engine.device(P)?.presence === 'online');
    const q = openCommandQueue(path.join(store.dir, 'flaky.json'));
    const { got, onResult, until } = collector();
    const missed: Array<[string, number]> = [];
    const runner = startQueueRunner({
      engine,
      queue: q,
      profile: 'home',
      // The first time it starts, the device loses power.
      onStart: (item) => item.attempts === 0 && d.kill(),
      onMissed: (item, attempts) => missed.push([item.prefix, attempts]),
      onResult,
    });
    try {
      q.add('home', P, { kind: 'eval', code: 'new Promise((r) => setTimeout(() => r("done"), 300))' });
      runner.poke(P);
      await waitForDevices(engine, () => engine.device(P)?.presence === 'offline');
      await runner.idle();
      expect(got).toEqual([]);
      expect(q.list()).toEqual([expect.objectContaining({ prefix: P, attempts: 1 })]);
      expect(missed).toEqual([[P, 1]]);

      await boot(P);
      await until(1);
      expect(got[0]![1]).toMatchObject({ prefix: P, status: 'ok', output: "'done'" });
      expect(q.list()).toEqual([]);
    } finally {
      await runner.stop();
    }
  });

  it('reports an error from the device as the result, and does not run the command again', async () => {
    const P = 'q/broken';
    await offlineDevice(P);
    const q = openCommandQueue(path.join(store.dir, 'broken.json'));
    const { got, onResult, until } = collector();
    const runner = startQueueRunner({ engine, queue: q, profile: 'home', onResult });
    try {
      q.add('home', P, { kind: 'eval', code: 'throw new Error("no sensor")' });
      await boot(P);
      await until(1);
      expect(got[0]![1]).toMatchObject({ status: 'error', error: expect.stringMatching(/no sensor/) });
      expect(q.list()).toEqual([]);
    } finally {
      await runner.stop();
    }
  });

  describe.skipIf(pythonMissing)('an original board', () => { // skipped without python3, which runs the original-board simulator: apt-get install python3 (CI installs it)
    let board: OriginalBoard | undefined;
    const oroot = tempDir('queue-orig');
    afterAll(async () => {
      await board?.stop();
      oroot.remove();
    });

    it('runs its queued command once its first watchdog feed or log line is heard', async () => {
      const P = 'q/orig';
      expect(engine.device(P)).toBeUndefined();
      const q = openCommandQueue(path.join(store.dir, 'orig.json'));
      const { got, onResult, until } = collector();
      const runner = startQueueRunner({ engine, queue: q, profile: 'home', onResult });
      try {
        q.add('home', P, { kind: 'eval', code: '6*7' });
        runner.poke(P);
        expect(got).toEqual([]);
        board = await startOriginalBoard({ url: broker.url, prefix: P, root: oroot.dir, watchdogIntervalMs: 200 });
        await until(1);
        expect(got[0]![1]).toMatchObject({ prefix: P, status: 'ok', output: '42' });
        expect(existsSync(q.file)).toBe(true);
        expect(q.list()).toEqual([]);
      } finally {
        await runner.stop();
      }
    });
  });
});
