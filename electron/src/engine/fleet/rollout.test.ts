// Rollouts against a real broker (aedes) and real devices of our runtime: the wave plan, a good
// bundle through every wave and the gate, a bundle whose app crashes at boot stopped at the
// canary and rolled back, a rollout that continues after the host restarts, and abort.
import { mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createBundle, startDevice, startFleet, type DeviceHandle, type FleetHandle } from '../../../../device-runtime/src';
import { startEmbeddedBroker, type EmbeddedBroker } from '../../../../testing/brokers';
import type { RolloutDevice, RolloutImage, RolloutInput } from '../../../../protocol/src/bridge-rollouts';
import { RolloutInput as RolloutInputSchema } from '../../../../protocol/src/bridge-rollouts';
import { connectedEngine, tempDir, waitForDevices } from '../test-support';
import type { DeviceState, Engine } from '../types';
import { createRolloutManager, createRolloutStore, parseWaves, planRollout, reportsVersion, waveSizes, type RolloutEvent, type RolloutManager } from './rollout';
import { describeRolloutImage } from './rollout-image';

const device = (prefix: string, firmware: string, presence: DeviceState['presence'] = 'online', kind: DeviceState['kind'] = 'mqboard'): DeviceState => ({ prefix, kind, presence, since: 0, firmware, source: 'status' });

describe('the wave plan', () => {
  it('reads waves as cumulative targets, percentages rounded up so a small fleet still gets a canary', () => {
    const t = parseWaves('1, 10%,50%,100%');
    expect(t.map((w) => w.label)).toEqual(['1', '10%', '50%', '100%']);
    expect(waveSizes(t, 5)).toEqual([
      { label: '1', size: 1 },
      { label: '50%', size: 2 },
      { label: '100%', size: 2 },
    ]);
    expect(waveSizes(t, 200).map((w) => w.size)).toEqual([1, 19, 80, 100]);
    expect(waveSizes(parseWaves('2,25%,100%'), 1).map((w) => w.size)).toEqual([1]);
    expect(waveSizes(parseWaves('33.3%,100%'), 10).map((w) => w.size)).toEqual([4, 6]);
  });

  it('refuses waves that cannot be a plan, in words', () => {
    expect(() => parseWaves('1,,100%')).toThrow(/empty entry/);
    expect(() => parseWaves('0,100%')).toThrow(/whole number/);
    expect(() => parseWaves('1,150%')).toThrow(/between 0% and 100%/);
    expect(() => parseWaves('1.5')).toThrow(/whole number/);
    expect(() => parseWaves('all')).toThrow(/neither a count nor a percentage/);
  });

  it('compares reported versions the semver way', () => {
    expect(reportsVersion('v2.5.0', '2.5.0')).toBe(true);
    expect(reportsVersion('2.5', '2.5.0')).toBe(true);
    expect(reportsVersion('2.5.0-rc.1', '2.5.0')).toBe(false);
    expect(reportsVersion('weather build', 'weather build')).toBe(true);
    expect(reportsVersion(undefined, '2.5.0')).toBe(false);
  });

  const image: RolloutImage = { name: 'app.tar', size: 10, sha256: 'x', kind: 'bundle', version: '2.5.0' };
  const fleet = new Map(
    [device('g/1', '2.4.0'), device('g/2', 'v2.5.0'), device('g/3', '2.4.1', 'offline'), device('g/4', '2.4.0'), device('g/5', '1.0', 'online', 'original'), device('g/6', '2.0.0')].map((d) => [d.prefix, d]),
  );

  it('leaves out devices already on the version, offline ones and those that cannot take the image, each with its reason', () => {
    const plan = planRollout({ image, prefixes: ['g/1', 'g/2', 'g/3', 'g/4', 'g/5', 'g/6', 'g/7', 'g/1'], waves: '1,100%', onlyOutdated: true, offline: 'skip', device: (p) => fleet.get(p) });
    expect(plan.waves).toEqual([
      { index: 0, label: '1', prefixes: ['g/1'] },
      { index: 1, label: '100%', prefixes: ['g/4', 'g/6'] },
    ]);
    expect(plan.skipped).toEqual([
      { prefix: 'g/2', reason: 'already on 2.5.0' },
      { prefix: 'g/3', reason: 'offline' },
      { prefix: 'g/5', reason: 'an original board takes MicroPython firmware, not an app bundle' },
      { prefix: 'g/7', reason: 'not found on the broker' },
    ]);
  });

  it('leaves out a board running the MicroPython package, whatever the image, saying so', () => {
    const mpy: DeviceState = { ...device('m/1', '0.1.0'), runtime: { kind: 'mqboard-micropython', version: '0.1.0' } };
    for (const kind of ['bundle', 'firmware'] as const) {
      const plan = planRollout({ image: { ...image, kind }, prefixes: ['m/1'], waves: '100%', onlyOutdated: false, offline: 'skip', device: () => mpy });
      expect(plan.skipped).toEqual([{ prefix: 'm/1', reason: 'an MQBoard MicroPython board: rollouts to it are not supported yet (update it with mqboard ota)' }]);
    }
  });

  it('keeps offline devices when told to wait for them, and devices on the version when told to update all', () => {
    const plan = planRollout({ image, prefixes: ['g/1', 'g/2', 'g/3'], waves: '1,100%', onlyOutdated: false, offline: 'wait', device: (p) => fleet.get(p) });
    expect(plan.waves.map((w) => w.prefixes)).toEqual([['g/1'], ['g/2', 'g/3']]);
    expect(plan.skipped).toEqual([]);
  });

  it('names the devices beyond the last wave', () => {
    const plan = planRollout({ image, prefixes: ['g/1', 'g/4', 'g/6'], waves: '1', onlyOutdated: true, offline: 'skip', device: (p) => fleet.get(p) });
    expect(plan.waves.map((w) => w.prefixes)).toEqual([['g/1']]);
    expect(plan.skipped.map((s) => s.reason)).toEqual(['beyond the last wave (1)', 'beyond the last wave (1)']);
  });
});

describe('rollouts on real devices', () => {
  let broker: EmbeddedBroker;
  let fleet: FleetHandle;
  let engine: Engine;
  const root = tempDir('rollout-fleet');
  const state = tempDir('rollout-state');
  const N = 5;
  const MODULE_RETRY_MS = 10_000;
  const members = Array.from({ length: N }, (_, i) => `ro/f/${String(i + 1).padStart(3, '0')}`);
  const profile = 'test-broker';
  const managers: RolloutManager[] = [];
  const restarted: DeviceHandle[] = [];

  const bundle = (version: string, app: string) => createBundle({ name: 'weather', version, modules: ['app'] }, { 'app.mjs': app });
  const good = (version: string) => bundle(version, `export function start(mqtt) { mqtt.log.info('weather ${version} running'); }\n`);
  const crashing = (version: string) => bundle(version, `export function start() { throw new Error('sensor table missing in ${version}'); }\n`);

  function manager(events: RolloutEvent[] = [], e: Engine = engine): RolloutManager {
    const m = createRolloutManager({ engine: e, store: createRolloutStore(path.join(state.dir, 'rollouts')), profile: () => profile, onEvent: (ev) => events.push(ev), eventMs: 20, minConfirmMs: 20_000 });
    managers.push(m);
    return m;
  }
  const input = (over: Partial<RolloutInput> = {}): RolloutInput =>
    RolloutInputSchema.parse({ image: { from: 'example', name: 'test' }, prefixes: members, waves: '1,50%,100%', concurrency: 2, soakS: 1, onlineWithinS: 30, ...over });
  const firmware = () => members.map((p) => engine.device(p)?.firmware);
  const byPrefix = (devices: RolloutDevice[]) => new Map(devices.map((d) => [d.prefix, d]));

  beforeAll(async () => {
    broker = await startEmbeddedBroker();
    engine = await connectedEngine(broker.url, { depths: [3] });
    // A watchdog fed every second and all-OK at the first feed after 0.5 s: the gate's confirmation comes quickly.
    for (let i = 1; i <= N; i++) {
      const dir = path.join(root.dir, String(i).padStart(3, '0'));
      mkdirSync(dir, { recursive: true });
      writeFileSync(path.join(dir, 'config.json'), JSON.stringify({ watchdog: { timeoutS: 4, initialS: 10, allokS: 0.5 } }));
    }
    // The gate resets a trial boot whose app failed as soon as it hears of the crash. A device
    // whose own reboot after the failure could come first would take that reset, queued by the
    // broker while it reconnects, at its next boot and reboot once more, into the next test's
    // transfer: its own retry stays well behind the gate's reaction, even on a loaded machine.
    fleet = await startFleet({ url: broker.url, prefix: 'ro/f', root: root.dir, count: N, firmware: '1.0.0', moduleRetryMs: MODULE_RETRY_MS });
    await waitForDevices(engine, () => members.every((p) => engine.device(p)?.presence === 'online' && engine.device(p)?.ota !== undefined));
  });
  afterAll(async () => {
    for (const m of managers) await m.close();
    for (const d of restarted) await d.stop();
    await engine?.disconnect();
    await fleet?.stop();
    await broker?.close();
    root.remove();
    state.remove();
  });

  it('takes a good bundle to every device, wave by wave, each through every check of the gate', async () => {
    const events: RolloutEvent[] = [];
    const m = manager(events);
    const image = await good('2.0.0');
    const info = await describeRolloutImage('weather-2.0.0.tar', image);
    expect(info).toMatchObject({ kind: 'bundle', version: '2.0.0', size: image.length });
    const started = await m.start({ input: input(), image, info });
    expect(started.waves.map((w) => w.size)).toEqual([1, 2, 2]);
    const done = await m.settled(started.id);
    expect(done).toMatchObject({ state: 'done', counts: { updated: N } });
    expect(done.waves.map((w) => w.state)).toEqual(['done', 'done', 'done']);

    const { devices } = m.get(started.id);
    for (const d of devices) {
      expect(d).toMatchObject({ state: 'updated', from: '1.0.0', now: '2.0.0', sent: image.length });
      expect(d.checks.map((c) => [c.name, c.state])).toEqual([
        ['online', 'passed'],
        ['version', 'passed'],
        ['confirmed', 'passed'],
        ['no-crash', 'passed'],
      ]);
    }
    expect(firmware()).toEqual(members.map(() => '2.0.0'));

    // No device of a wave started before the wave before it had passed the gate.
    const startedAt = byPrefix(devices);
    const wave0End = startedAt.get(members[0]!)!.ended!;
    for (const p of members.slice(1)) expect(startedAt.get(p)!.started!).toBeGreaterThanOrEqual(wave0End);
    // The states streamed in order for a device: sending, rebooting, verifying, soaking, updated.
    const seen = events.flatMap((e) => e.devices.filter((d) => d.prefix === members[0]).map((d) => d.state));
    expect([...new Set(seen)]).toEqual(['pending', 'sending', 'rebooting', 'verifying', 'soaking', 'updated']);
  }, 60_000);

  it('stops itself at the canary when the app crashes at boot: the canary is rolled back and no other device is touched', async () => {
    const m = manager();
    const image = await crashing('2.1.0');
    const started = await m.start({ input: input(), image, info: await describeRolloutImage('weather-2.1.0.tar', image) });
    const paused = await m.settled(started.id);
    expect(paused.state).toBe('paused');
    expect(paused.pausedReason).toBe('the canary wave had 1 device fail the gate (allowed: 0)');
    expect(paused.waves.map((w) => w.state)).toEqual(['done', 'pending', 'pending']);

    const { devices } = m.get(started.id);
    const canary = devices.find((d) => d.wave === 0)!;
    expect(canary).toMatchObject({ prefix: members[0], state: 'rolled-back', from: '2.0.0', now: '2.0.0' });
    expect(canary.reason).toMatch(/sensor table missing in 2\.1\.0/);
    expect(canary.reason).toMatch(/rolled back to 2\.0\.0$/);
    expect(canary.checks.find((c) => c.state === 'failed')).toBeDefined();
    expect(devices.filter((d) => d.wave > 0).map((d) => d.state)).toEqual(members.slice(1).map(() => 'pending'));
    await waitForDevices(engine, () => engine.device(members[0]!)?.presence === 'online');
    expect(firmware()).toEqual(members.map(() => '2.0.0'));

    // Abort: the devices not yet updated stay as they are.
    const aborted = await m.abort(started.id);
    expect(aborted.state).toBe('aborted');
    expect(m.get(started.id).devices.filter((d) => d.wave > 0).map((d) => [d.state, d.reason])).toEqual(members.slice(1).map(() => ['cancelled', 'the rollout was aborted before its turn']));
    expect(firmware()).toEqual(members.map(() => '2.0.0'));
    await m.forget(started.id);
    expect(m.list().map((r) => r.id)).not.toContain(started.id);
  }, 60_000);

  it('continues after the host restarts: a device caught in its gate finishes it, the rest follow', async () => {
    const events: RolloutEvent[] = [];
    const m = manager(events);
    const image = await good('2.2.0');
    const caught = new Promise<string>((resolve) => {
      const check = () => {
        const d = events.flatMap((e) => e.devices).find((x) => x.state === 'rebooting' || x.state === 'verifying');
        if (d) resolve(d.prefix);
        else setTimeout(check, 10);
      };
      check();
    });
    const started = await m.start({ input: input({ waves: '100%', concurrency: 1 }), image, info: await describeRolloutImage('weather-2.2.0.tar', image) });
    const midGate = await caught;
    await m.close();

    // What is on disk: private files, the rollout still running, the device in its gate.
    const dir = path.join(state.dir, 'rollouts');
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    for (const f of readdirSync(dir)) expect(statSync(path.join(dir, f)).mode & 0o777).toBe(0o600);

    // A new host: its own engine and manager on the same folder.
    const engine2 = await connectedEngine(broker.url, { depths: [3] });
    try {
      await engine2.settle();
      const m2 = manager([], engine2);
      await m2.restore();
      const before = m2.get(started.id);
      expect(before.rollout.state).toBe('running');
      expect(['rebooting', 'verifying', 'soaking', 'updated']).toContain(before.devices.find((d) => d.prefix === midGate)!.state);
      const done = await m2.settled(started.id);
      expect(done).toMatchObject({ state: 'done', counts: { updated: N } });
      expect(m2.get(started.id).devices.every((d) => d.now === '2.2.0' && d.checks.every((c) => c.state === 'passed'))).toBe(true);
      await waitForDevices(engine, () => members.every((p) => engine.device(p)?.firmware === '2.2.0'));
    } finally {
      await engine2.disconnect();
    }
  }, 90_000);

  it('sends the image again to a device caught mid-transfer when the host stopped', async () => {
    const events: RolloutEvent[] = [];
    const m = manager(events);
    // Big enough that the transfer is still going when the host stops.
    const image = await bundle('2.2.5', `export function start() {}\n// ${'x'.repeat(3 * 1024 * 1024)}\n`);
    const p = members[0]!;
    const sending = new Promise<void>((resolve) => {
      const check = () => (events.some((e) => e.devices.some((d) => d.state === 'sending' && (d.sent ?? 0) > 0)) ? resolve() : setTimeout(check, 1));
      check();
    });
    const r = await m.start({ input: input({ prefixes: [p], waves: '100%' }), image, info: await describeRolloutImage('weather-2.2.5.tar', image) });
    await sending;
    await m.close();
    expect(engine.device(p)?.firmware).toBe('2.2.0');

    const m2 = manager();
    await m2.restore();
    expect(m2.get(r.id).devices[0]!.state).toBe('sending');
    expect(await m2.settled(r.id)).toMatchObject({ state: 'done', counts: { updated: 1 } });
    expect(m2.get(r.id).devices[0]).toMatchObject({ state: 'updated', from: '2.2.0', now: '2.2.5', sent: image.length });
  }, 60_000);

  it('updates only the outdated devices, and a paused rollout resumes with the devices left', async () => {
    const m = manager();
    // Two devices are on 2.3.0 already; the rollout of 2.3.0 leaves them out.
    const image = await good('2.3.0');
    const info = await describeRolloutImage('weather-2.3.0.tar', image);
    const first = await m.start({ input: input({ prefixes: members.slice(0, 2), waves: '100%' }), image, info });
    expect(await m.settled(first.id)).toMatchObject({ state: 'done', counts: { updated: 2 } });

    const r = await m.start({ input: input({ waves: '1,100%', concurrency: 3 }), image, info });
    expect(m.get(r.id).devices.filter((d) => d.state === 'skipped').map((d) => [d.prefix, d.reason])).toEqual(members.slice(0, 2).map((p) => [p, 'already on 2.3.0']));
    await m.pause(r.id);
    const paused = await m.settled(r.id);
    expect(paused).toMatchObject({ state: 'paused', pausedReason: 'paused by the user' });
    const resumed = await m.resume(r.id);
    expect(resumed.state).toBe('running');
    expect(await m.settled(r.id)).toMatchObject({ state: 'done', counts: { updated: 3, skipped: 2 } });
    expect(firmware()).toEqual(members.map(() => '2.3.0'));
  }, 90_000);

  it('pauses in a later wave once more devices failed than allowed, after a canary allowed to fail', async () => {
    const m = manager();
    const image = await crashing('2.3.1');
    const input1 = input({ waves: '1,100%', concurrency: 1, canaryMaxFailures: 1, maxFailures: 1 });
    const r = await m.start({ input: input1, image, info: await describeRolloutImage('weather-2.3.1.tar', image) });
    const paused = await m.settled(r.id);
    expect(paused).toMatchObject({ state: 'paused', pausedReason: '2 devices failed, more than the 1 allowed', wave: 1, counts: { 'rolled-back': 2, pending: 3 } });
    expect(paused.waves.map((w) => w.state)).toEqual(['done', 'running']);
    await waitForDevices(engine, () => members.every((p) => engine.device(p)?.presence === 'online'));
    expect(firmware()).toEqual(members.map(() => '2.3.0'));
    await m.abort(r.id);
  }, 60_000);

  it('skips a device that is offline, or with offline: wait, waits for it and updates it once it is back', async () => {
    const m = manager();
    const image = await good('2.4.0');
    const info = await describeRolloutImage('weather-2.4.0.tar', image);
    const p = members[4]!;
    await fleet.devices[4]!.stop();
    await waitForDevices(engine, () => engine.device(p)?.presence === 'offline');
    await expect(m.start({ input: input({ prefixes: [p], waves: '100%' }), image, info })).rejects.toThrow('no device to update: 1 skipped (offline)');

    const r = await m.start({ input: input({ prefixes: [p], waves: '100%', offline: 'wait' }), image, info });
    await vi.waitFor(() => expect(m.get(r.id).devices[0]).toMatchObject({ state: 'waiting', reason: 'offline: waiting for it to come back' }), { timeout: 5_000 });
    restarted.push(await startDevice({ url: broker.url, prefix: p, root: path.join(root.dir, '005'), firmware: '1.0.0', moduleRetryMs: MODULE_RETRY_MS }));
    expect(await m.settled(r.id)).toMatchObject({ state: 'done', counts: { updated: 1 } });
    expect(engine.device(p)?.firmware).toBe('2.4.0');
  }, 60_000);

  it('holds a rollout while the host is on another broker profile, and goes on when it is back', async () => {
    let current = profile;
    const events: RolloutEvent[] = [];
    const m = createRolloutManager({ engine, store: createRolloutStore(path.join(state.dir, 'rollouts')), profile: () => current, onEvent: (ev) => events.push(ev), eventMs: 20, minConfirmMs: 20_000 });
    managers.push(m);
    const image = await good('2.5.0');
    const r = await m.start({ input: input({ waves: '100%', concurrency: 2 }), image, info: await describeRolloutImage('weather-2.5.0.tar', image) });
    await vi.waitFor(() => expect(events.some((e) => e.devices.some((d) => d.state === 'rebooting'))).toBe(true), { timeout: 20_000, interval: 5 });
    current = 'office';
    m.continueRunning();
    const held = await m.settled(r.id);
    expect(held.state).toBe('running');
    expect(m.list()).toEqual([]);
    expect(m.list(profile).map((x) => x.id)).toContain(r.id);

    current = profile;
    m.continueRunning();
    expect(await m.settled(r.id)).toMatchObject({ state: 'done', counts: { updated: N } });
    expect(firmware()).toEqual(members.map(() => '2.5.0'));
  }, 90_000);
});
