// Rollouts of MicroPython firmware to original MQBoard boards (the faithful simulator) through a
// real broker (aedes): the plan takes firmware to original boards and bundles to our runtime, a
// good image goes through every check of the gate (the build from the boot greeting, the
// confirmation from the watchdog's all-OK), and an image that panics before its all-OK is rolled
// back by the board's own bootloader and stops the rollout at the canary, and a host that
// restarts mid-gate learns from the board itself what its boot log said.
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { buildFirmwareImage, startOriginalBoard, type OriginalBoard } from '../../../../device-runtime/src/original';
import { startEmbeddedBroker, type EmbeddedBroker } from '../../../../testing/brokers';
import type { RolloutImage, RolloutInput } from '../../../../protocol/src/bridge-rollouts';
import { RolloutInput as RolloutInputSchema } from '../../../../protocol/src/bridge-rollouts';
import { connectedEngine, tempDir, waitForDevices } from '../test-support';
import type { DeviceState, Engine } from '../types';
import { createRolloutManager, createRolloutStore, planRollout, type RolloutManager } from './rollout';
import { describeRolloutImage } from './rollout-image';

const pythonMissing = spawnSync('python3', ['--version']).status === 0 ? undefined : 'python3 is missing: original-board simulator tests skipped';

describe('a firmware image', () => {
  it('says its version (the app description), which must agree with one the user gives', async () => {
    const image = buildFirmwareImage({ version: 'v1.13-mqboard' });
    expect(await describeRolloutImage('fw.bin', image)).toMatchObject({ kind: 'firmware', version: 'v1.13-mqboard', size: image.length });
    expect(await describeRolloutImage('fw.bin', image, 'v1.13-mqboard')).toMatchObject({ version: 'v1.13-mqboard' });
    await expect(describeRolloutImage('fw.bin', image, '1.14')).rejects.toThrow('fw.bin: the firmware says version v1.13-mqboard, not 1.14');
    // An image without an app description: only the user can say what the boards will report.
    const bare = image.slice();
    bare[0x20] = 0;
    await expect(describeRolloutImage('fw.bin', bare)).rejects.toThrow(/no app description to read its version from/);
    expect(await describeRolloutImage('fw.bin', bare, 'v1.13-mqboard')).toMatchObject({ kind: 'firmware', version: 'v1.13-mqboard' });
  });

  it('is planned for original boards only, and a bundle for our runtime only, each mismatch with its reason', () => {
    const dev = (prefix: string, kind: DeviceState['kind'], firmware?: string): DeviceState => ({ prefix, kind, presence: 'online', since: 0, firmware, source: 'watchdog' });
    const fleet = new Map([dev('o/1', 'original', 'v1.12-mqboard'), dev('o/2', 'original', 'v1.13-mqboard'), dev('o/3', 'original'), dev('r/1', 'mqboard', '2.0.0')].map((d) => [d.prefix, d]));
    const firmware: RolloutImage = { name: 'fw.bin', size: 1, sha256: 'x', kind: 'firmware', version: 'v1.13-mqboard' };
    const plan = planRollout({ image: firmware, prefixes: ['o/1', 'o/2', 'o/3', 'r/1'], waves: '100%', onlyOutdated: true, offline: 'skip', device: (p) => fleet.get(p) });
    // A board whose boot the host has not seen reports no build yet: it is not known to be up to date.
    expect(plan.waves).toEqual([{ index: 0, label: '100%', prefixes: ['o/1', 'o/3'] }]);
    expect(plan.skipped).toEqual([
      { prefix: 'o/2', reason: 'already on v1.13-mqboard' },
      { prefix: 'r/1', reason: 'the MQBoard runtime takes app bundles, not ESP32 firmware' },
    ]);
    const bundle: RolloutImage = { ...firmware, kind: 'bundle', version: '2.1.0' };
    const b = planRollout({ image: bundle, prefixes: ['o/1', 'r/1'], waves: '100%', onlyOutdated: true, offline: 'skip', device: (p) => fleet.get(p) });
    expect(b.waves[0]!.prefixes).toEqual(['r/1']);
    expect(b.skipped).toEqual([{ prefix: 'o/1', reason: 'an original board takes MicroPython firmware, not an app bundle' }]);
  });
});

describe.skipIf(pythonMissing)('rollouts to original boards', () => { // skipped without python3, which runs the original-board simulator: apt-get install python3 (CI installs it)
  let broker: EmbeddedBroker;
  let engine: Engine;
  const boards: OriginalBoard[] = [];
  const roots = Array.from({ length: 3 }, (_, i) => tempDir(`rollout-orig-${i + 1}`));
  const state = tempDir('rollout-orig-state');
  const members = roots.map((_, i) => `ro/orig/${i + 1}`);
  const managers: RolloutManager[] = [];

  const manager = (): RolloutManager => {
    const m = createRolloutManager({ engine, store: createRolloutStore(path.join(state.dir, 'rollouts')), profile: () => 'test-broker', eventMs: 20, minConfirmMs: 20_000 });
    managers.push(m);
    return m;
  };
  const input = (over: Partial<RolloutInput> = {}): RolloutInput =>
    RolloutInputSchema.parse({ image: { from: 'example', name: 'test' }, prefixes: members, waves: '1,100%', concurrency: 2, soakS: 1, onlineWithinS: 30, ...over });
  const firmware = () => members.map((p) => engine.device(p)?.firmware);

  beforeAll(async () => {
    broker = await startEmbeddedBroker();
    engine = await connectedEngine(broker.url, { depths: [3] });
    // Fed every 200 ms and all-OK after 1.5 s of good feeding (a real board: 180-300 s).
    for (const [i, r] of roots.entries()) {
      boards.push(await startOriginalBoard({ url: broker.url, prefix: members[i]!, root: r.dir, watchdogIntervalMs: 200, allokMs: 1500, firmware: 'v1.12-mqboard' }));
    }
    // The host saw them boot: their greeting named the build.
    await waitForDevices(engine, () => members.every((p) => engine.device(p)?.presence === 'online' && engine.device(p)?.firmware === 'v1.12-mqboard'));
  }, 30_000);
  afterAll(async () => {
    for (const m of managers) await m.close();
    await engine?.disconnect();
    for (const b of boards) await b.stop();
    await broker?.close();
    for (const r of roots) r.remove();
    state.remove();
  });

  it('takes a good image to every board: each reports the new build and confirms it at its all-OK', async () => {
    expect(members.map((p) => engine.device(p)?.kind)).toEqual(members.map(() => 'original'));
    const m = manager();
    const image = buildFirmwareImage({ version: 'v1.13-mqboard', size: 150_000 });
    const info = await describeRolloutImage('micropython-v1.13.bin', image);
    const r = await m.start({ input: input(), image, info });
    expect(r.waves.map((w) => w.size)).toEqual([1, 2]);
    expect(await m.settled(r.id)).toMatchObject({ state: 'done', counts: { updated: 3 } });
    for (const d of m.get(r.id).devices) {
      expect(d).toMatchObject({ state: 'updated', from: 'v1.12-mqboard', now: 'v1.13-mqboard', sent: image.length });
      expect(d.checks.map((c) => [c.name, c.state])).toEqual([
        ['online', 'passed'],
        ['version', 'passed'],
        ['confirmed', 'passed'],
        ['no-crash', 'passed'],
      ]);
    }
    expect(firmware()).toEqual(members.map(() => 'v1.13-mqboard'));
    expect(members.map((p) => engine.device(p)?.ota?.confirmed)).toEqual(members.map(() => true));
    // It is on the board for good: the board itself says so.
    expect(await engine.eval(members[0]!, 'import os\nprint(os.uname().version.split()[0])')).toBe('v1.13-mqboard\r\n');
  }, 90_000);

  it('stops at the canary when the image panics before its all-OK: the board rolls itself back, no other board is touched', async () => {
    const m = manager();
    const image = buildFirmwareImage({ version: 'v1.14-broken', panic: true });
    const r = await m.start({ input: input(), image, info: await describeRolloutImage('micropython-v1.14.bin', image) });
    const paused = await m.settled(r.id);
    expect(paused).toMatchObject({ state: 'paused', pausedReason: 'the canary wave had 1 device fail the gate (allowed: 0)' });
    const { devices } = m.get(r.id);
    const canary = devices.find((d) => d.wave === 0)!;
    expect(canary).toMatchObject({ prefix: members[0], state: 'rolled-back', from: 'v1.13-mqboard', now: 'v1.13-mqboard' });
    // It came back on the new build, and rebooted before its all-OK onto the previous one.
    expect(canary.checks.map((c) => [c.name, c.state])).toEqual([
      ['online', 'passed'],
      ['version', 'passed'],
      ['confirmed', 'failed'],
      ['no-crash', 'pending'],
    ]);
    expect(canary.reason).toMatch(/^before confirming: rebooted or lost its connection; rolled back to v1\.13-mqboard$/);
    expect(devices.filter((d) => d.wave > 0).map((d) => d.state)).toEqual(['pending', 'pending']);
    expect(firmware()).toEqual(members.map(() => 'v1.13-mqboard'));
    await m.abort(r.id);
    expect(firmware()).toEqual(members.map(() => 'v1.13-mqboard'));
  }, 90_000);

  it('continues after the host restarts mid-gate: the new host asks the board what its boot log said, and finishes the gate', async () => {
    const p = members[2]!;
    const m = manager();
    const image = buildFirmwareImage({ version: 'v1.15-mqboard' });
    const r = await m.start({ input: input({ prefixes: [p], waves: '100%', soakS: 3 }), image, info: await describeRolloutImage('micropython-v1.15.bin', image) });
    await vi.waitFor(() => expect(['verifying', 'soaking']).toContain(m.get(r.id).devices[0]!.state), { timeout: 30_000, interval: 5 });
    await m.close();

    // A new host, which heard neither the greeting of the new build nor the all-OK.
    const engine2 = await connectedEngine(broker.url, { depths: [3] });
    try {
      await engine2.settle();
      const m2 = createRolloutManager({ engine: engine2, store: createRolloutStore(path.join(state.dir, 'rollouts')), profile: () => 'test-broker', eventMs: 20, minConfirmMs: 20_000 });
      managers.push(m2);
      await m2.restore();
      expect(await m2.settled(r.id)).toMatchObject({ state: 'done', counts: { updated: 1 } });
      const d = m2.get(r.id).devices[0]!;
      expect(d).toMatchObject({ state: 'updated', now: 'v1.15-mqboard' });
      expect(d.checks.map((c) => c.state)).toEqual(['passed', 'passed', 'passed', 'passed']);
      // What the probe told the new host.
      expect(engine2.device(p)).toMatchObject({ kind: 'original', firmware: 'v1.15-mqboard', ota: { confirmed: true } });
    } finally {
      await engine2.disconnect();
    }
  }, 90_000);
});
