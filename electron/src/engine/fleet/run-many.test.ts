// Run-on-many against a real broker (aedes) and real devices: a fleet of our runtime in one
// process, an original board simulator, and the engine the app and the CLI use.
import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDevice, startFleet, type DeviceHandle, type FleetHandle } from '../../../../device-runtime/src';
import { startOriginalBoard, type OriginalBoard } from '../../../../device-runtime/src/original';
import { startEmbeddedBroker, type EmbeddedBroker } from '../../../../testing/brokers';
import { connectedEngine, sha256, tempDir, waitForDevices } from '../test-support';
import type { Engine } from '../types';
import {
  actionTitle,
  csvCell,
  enginePresence,
  evalAction,
  failedPrefixes,
  fleetAction,
  groupResults,
  mergeResults,
  putAction,
  resetAction,
  resultsCsv,
  resultsJson,
  runMany,
  summarizeGroups,
  type DeviceResult,
} from './run-many';

const pythonMissing = spawnSync('python3', ['--version']).status === 0 ? undefined : 'python3 is missing: the original board is left out';

let broker: EmbeddedBroker;
let fleet: FleetHandle;
let engine: Engine;
const root = tempDir('run-many');
const N = 6;
const members = Array.from({ length: N }, (_, i) => `rm/f/${String(i + 1).padStart(3, '0')}`);

beforeAll(async () => {
  broker = await startEmbeddedBroker();
  engine = await connectedEngine(broker.url, { depths: [3] });
  fleet = await startFleet({ url: broker.url, prefix: 'rm/f', root: root.dir, count: N, firmware: '2.5.0' });
  await waitForDevices(engine, (all) => members.every((p) => all.find((d) => d.prefix === p)?.presence === 'online'));
});
afterAll(async () => {
  await engine?.disconnect();
  await fleet?.stop();
  await broker?.close();
  root.remove();
});

describe('running an expression on many devices', () => {
  it('collects one result per device, in the order given, and groups identical outputs', async () => {
    const streamed: DeviceResult[] = [];
    const results = await runMany(members, evalAction(engine, '40 + 2'), { onResult: (r) => streamed.push(r) });
    expect(results.map((r) => [r.prefix, r.status, r.output])).toEqual(members.map((p) => [p, 'ok', '42']));
    expect(streamed.map((r) => r.prefix).sort()).toEqual(members);
    expect(summarizeGroups(groupResults(results))).toEqual([`${N} devices → 42`]);
  });

  it('keeps at most `concurrency` devices busy at once', async () => {
    let busy = 0;
    let most = 0;
    const slow = evalAction(engine, 'new Promise((r) => setTimeout(() => r(7), 150))');
    const results = await runMany(
      members,
      async (p, signal) => {
        most = Math.max(most, ++busy);
        try {
          return await slow(p, signal);
        } finally {
          busy--;
        }
      },
      { concurrency: 2 },
    );
    expect(results.every((r) => r.status === 'ok' && r.output === '7')).toBe(true);
    expect(most).toBe(2);
  });

  it('times out a device that does not answer in time, without holding up the others', async () => {
    const stuck = members[2]!;
    const results = await runMany(
      members,
      (p, signal) => engine.eval(p, p === stuck ? 'new Promise((r) => setTimeout(() => r(1), 4000))' : '"fine"', { signal }),
      { timeoutMs: 500, concurrency: N },
    );
    const byPrefix = new Map(results.map((r) => [r.prefix, r]));
    expect(byPrefix.get(stuck)).toMatchObject({ status: 'timeout', error: 'no result within 0.5 s' });
    expect(results.filter((r) => r.status === 'ok').map((r) => r.prefix)).toEqual(members.filter((p) => p !== stuck));
    expect(failedPrefixes(results)).toEqual([stuck]);
  });

  it('frees the slot of an action that ignores its signal once its time is up', async () => {
    const never = () => new Promise<string>(() => undefined);
    const results = await runMany([members[0]!, members[1]!], (p, signal) => (p === members[0] ? never() : engine.eval(p, '1', { signal })), { concurrency: 1, timeoutMs: 200 });
    expect(results.map((r) => r.status)).toEqual(['timeout', 'ok']);
  });

  it("reports the device's error, and a re-run of the failed ones replaces their rows", async () => {
    const bad = new Set([members[0], members[4]]);
    const first = await runMany(members, (p, signal) => engine.eval(p, bad.has(p) ? 'throw new Error("sensor missing")' : '"read"', { signal }));
    expect(first.filter((r) => r.status === 'error').map((r) => r.prefix)).toEqual([members[0], members[4]]);
    expect(first.find((r) => r.status === 'error')!.error).toMatch(/sensor missing/);
    expect(summarizeGroups(groupResults(first))).toEqual([`${N - 2} devices → 'read'`, expect.stringMatching(/^2 devices → error: .*sensor missing/)]);

    const again = await runMany(failedPrefixes(first), evalAction(engine, '"read"'));
    const merged = mergeResults(first, again);
    expect(merged.map((r) => r.prefix)).toEqual(members);
    expect(merged.every((r) => r.status === 'ok')).toBe(true);
  });

  it('stops at once when cancelled: running devices and those not started end as cancelled', async () => {
    const ac = new AbortController();
    const started: string[] = [];
    const run = runMany(members, evalAction(engine, 'new Promise((r) => setTimeout(() => r(1), 3000))'), {
      concurrency: 2,
      signal: ac.signal,
      onStart: (p) => {
        started.push(p);
        if (started.length === 2) ac.abort();
      },
    });
    const results = await run;
    expect(results.map((r) => r.status)).toEqual(members.map(() => 'cancelled'));
    expect(started).toEqual(members.slice(0, 2));
  });

  it('puts a file on every device, verified, with the same line for each', async () => {
    const data = new TextEncoder().encode('threshold = 21\n');
    const results = await runMany(members, putAction(engine, '/limits.py', data));
    expect(groupResults(results)).toEqual([{ status: 'ok', text: `/limits.py: ${data.length} bytes, sha256 ${sha256(data).slice(0, 12)}`, prefixes: members }]);
    for (const p of members) expect(await engine.sha256(p, '/limits.py')).toBe(sha256(data));
  });

  it('with onlyChanged writes only the devices whose copy differs, like sync', async () => {
    const data = new TextEncoder().encode('mode = "sync"\n');
    await runMany([members[0]!], putAction(engine, '/sync.py', data));
    await engine.put(members[1]!, '/sync.py', new TextEncoder().encode('mode = "old"\n'));
    const results = await runMany(members.slice(0, 3), fleetAction(engine, { kind: 'put', files: [{ path: '/sync.py', data }], onlyChanged: true }));
    expect(results.map((r) => r.output)).toEqual([
      '/sync.py: unchanged',
      `/sync.py: ${data.length} bytes, sha256 ${sha256(data).slice(0, 12)}`,
      `/sync.py: ${data.length} bytes, sha256 ${sha256(data).slice(0, 12)}`,
    ]);
    for (const p of members.slice(0, 3)) expect(await engine.sha256(p, '/sync.py')).toBe(sha256(data));
  });

  it('builds the same action from a description for the CLI and the app: several files put in order, one line each', async () => {
    const a = new TextEncoder().encode('a = 1\n');
    const b = new Uint8Array(3000).fill(7);
    const action = { kind: 'put' as const, files: [{ path: '/a.py', data: a }, { path: '/b.bin', data: b }] };
    expect(actionTitle(action)).toBe('/a.py, /b.bin');
    const results = await runMany(members.slice(0, 2), fleetAction(engine, action));
    expect(results.map((r) => r.output)).toEqual(
      members.slice(0, 2).map(() => `/a.py: ${a.length} bytes, sha256 ${sha256(a).slice(0, 12)}\n/b.bin: ${b.length} bytes, sha256 ${sha256(b).slice(0, 12)}`),
    );
    expect(await engine.sha256(members[1]!, '/b.bin')).toBe(sha256(b));
    expect(actionTitle({ kind: 'eval', code: 'for x in range(3):\n    print(x)' })).toBe('for x in range(3): ⏎ print(x)');
    expect(actionTitle({ kind: 'reset', mode: 'safe' })).toBe('reset safe');
  });
});

describe('devices that are not online', () => {
  let gone: DeviceHandle;
  const P = 'rm/gone/001';
  const groot = tempDir('run-many-gone');

  beforeAll(async () => {
    gone = await startDevice({ url: broker.url, prefix: P, root: groot.dir });
    await waitForDevices(engine, () => engine.device(P)?.presence === 'online');
    gone.kill();
    await waitForDevices(engine, () => engine.device(P)?.presence === 'offline');
  });
  afterAll(() => groot.remove());

  it('fail at once as offline, without trying them', async () => {
    let tried = 0;
    const results = await runMany(
      [P, members[0]!],
      (p, s) => {
        tried++;
        return engine.eval(p, '1', { signal: s });
      },
      { presence: enginePresence(engine) },
    );
    expect(results).toEqual([
      { prefix: P, status: 'offline', error: 'the device is offline', ms: 0 },
      expect.objectContaining({ prefix: members[0], status: 'ok', output: '1' }),
    ]);
    expect(tried).toBe(1);
  });

  it('are handed to the queue when one is given', async () => {
    const queued: string[] = [];
    const results = await runMany([P], evalAction(engine, '1'), { presence: enginePresence(engine), enqueue: (p) => queued.push(p) });
    expect(results).toEqual([{ prefix: P, status: 'queued', error: 'offline: queued until it is back online', ms: 0 }]);
    expect(queued).toEqual([P]);
    expect(failedPrefixes(results)).toEqual([]);
  });

  it('fail as offline, with the reason, when the queue cannot take them; the others still run', async () => {
    const results = await runMany([P, members[0]!], evalAction(engine, '2'), {
      presence: enginePresence(engine),
      enqueue: () => {
        throw new RangeError('the command queue is full (10000 commands)');
      },
    });
    expect(results).toEqual([
      { prefix: P, status: 'offline', error: 'the device is offline and could not be queued: the command queue is full (10000 commands)', ms: 0 },
      expect.objectContaining({ prefix: members[0], status: 'ok', output: '2' }),
    ]);
  });
});

describe('resetting many devices', () => {
  it('soft-resets each and reports it; the devices come back', async () => {
    const two = members.slice(0, 2);
    const booted = fleet.devices.filter((d) => two.includes(d.prefix)).map((d) => d.booted(2));
    const results = await runMany(two, resetAction(engine, 'soft'));
    expect(results.map((r) => [r.status, r.output])).toEqual([
      ['ok', 'reset soft'],
      ['ok', 'reset soft'],
    ]);
    await Promise.all(booted);
  });
});

describe.skipIf(pythonMissing)('an original board among them', () => { // skipped without python3, which runs the original-board simulator: apt-get install python3 (CI installs it)
  let board: OriginalBoard;
  const P = 'rm/orig/001';
  const oroot = tempDir('run-many-orig');

  beforeAll(async () => {
    board = await startOriginalBoard({ url: broker.url, prefix: P, root: oroot.dir, watchdogIntervalMs: 200 });
    await waitForDevices(engine, () => engine.device(P)?.presence === 'online');
  });
  afterAll(async () => {
    await board?.stop();
    oroot.remove();
  });

  it('evaluates through its eval like the others (Python there, JavaScript here)', async () => {
    const results = await runMany([P, members[0]!], evalAction(engine, '6*7'), { presence: enginePresence(engine) });
    expect(results.map((r) => [r.prefix, r.status, r.output])).toEqual([
      [P, 'ok', '42'],
      [members[0], 'ok', '42'],
    ]);
  });

  it('takes a put, read back and checked', async () => {
    const data = new TextEncoder().encode('print("hi")\n');
    const [r] = await runMany([P], putAction(engine, '/hi.py', data));
    expect(r).toMatchObject({ status: 'ok' });
    expect(await engine.sha256(P, '/hi.py')).toBe(sha256(data));
  });
});

describe('exports', () => {
  const rows: DeviceResult[] = [
    { prefix: 'a/1', status: 'ok', output: '2.5.0', ms: 12 },
    { prefix: 'a/2', status: 'error', error: 'Traceback:\n  ZeroDivisionError, "x"', ms: 30 },
    { prefix: 'a/3', status: 'ok', output: '=HYPERLINK("http://evil")', ms: 5 },
    { prefix: 'a/4', status: 'ok', output: '-42', ms: 5 },
    { prefix: 'a/5', status: 'offline', error: 'the device is offline', ms: 0 },
  ];

  it('writes CSV with quoting and formula-looking cells defused', () => {
    expect(resultsCsv(rows).split('\r\n')).toEqual([
      'prefix,status,output,error,ms',
      'a/1,ok,2.5.0,,12',
      'a/2,error,,"Traceback:\n  ZeroDivisionError, ""x""",30',
      `a/3,ok,"'=HYPERLINK(""http://evil"")",,5`,
      'a/4,ok,-42,,5',
      'a/5,offline,,the device is offline,0',
      '',
    ]);
    expect(csvCell('@SUM(A1)')).toBe("'@SUM(A1)");
    expect(csvCell(' padded')).toBe('" padded"');
  });

  it('writes JSON with output for successes and error for failures', () => {
    expect(resultsJson(rows.slice(0, 2))).toEqual([
      { prefix: 'a/1', ok: true, status: 'ok', output: '2.5.0', ms: 12 },
      { prefix: 'a/2', ok: false, status: 'error', error: 'Traceback:\n  ZeroDivisionError, "x"', ms: 30 },
    ]);
  });
});
