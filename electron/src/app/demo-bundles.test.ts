// The demo's example images are real updates. The app bundles, sent by OTA through a real engine
// to a runtime device set up like a demo device (firmware 2.4.1, blinky in /lib): the good one
// boots, reports its version and confirms; the crashing one fails its trial boot, leaves a crash
// record, and the device rolls back to the version it ran before, in-process and under the
// supervisor that runs each demo board. The firmware images, rolled out to simulated original
// boards like the demo's: the good one passes every check of the gate, the panicking one stops
// the rollout at the canary, which its own bootloader took back to the build it ran.
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { installDemo, startDevice, startSupervisedDevice, type DeviceHandle } from '../../../device-runtime/src';
import { whyNotBundle } from '../../../device-runtime/src/bundle';
import { startOriginalBoard, type OriginalBoard } from '../../../device-runtime/src/original';
import { RolloutInput } from '../../../protocol/src/bridge-rollouts';
import { startEmbeddedBroker, type EmbeddedBroker } from '../../../testing/brokers';
import { createRolloutManager, createRolloutStore, type RolloutManager } from '../engine/fleet/rollout';
import { describeRolloutImage } from '../engine/fleet/rollout-image';
import { connectedEngine, tempDir, waitForDevices } from '../engine/test-support';
import type { Engine } from '../engine/types';
import { demoBundle, demoBundles } from './demo-bundles';

const pythonMissing = spawnSync('python3', ['--version']).status === 0 ? undefined : 'python3 is missing: original-board simulator tests skipped';

describe('the demo example images', () => {
  it('are a good and a bad app bundle and a good and a bad firmware image, each what it says, with words for the user', async () => {
    const all = await demoBundles();
    expect(all.map((b) => [b.name, b.kind, b.version])).toEqual([
      ['greenhouse-2.5.0', 'bundle', '2.5.0'],
      ['greenhouse-2.6.0-crashes', 'bundle', '2.6.0'],
      ['micropython-v1.13-mqboard', 'firmware', 'v1.13-mqboard'],
      ['micropython-v1.14-mqboard-panics', 'firmware', 'v1.14-mqboard'],
    ]);
    for (const b of all) {
      if (b.kind === 'bundle') expect(whyNotBundle(b.bytes.subarray(0, 512))).toBeUndefined();
      // What the host reads from the image is what the example says it is.
      expect(await describeRolloutImage(b.name, b.bytes)).toMatchObject({ kind: b.kind, version: b.version });
      expect(b.description.length).toBeGreaterThan(20);
    }
    expect((await demoBundle('greenhouse-2.6.0-crashes')).description).toMatch(/rolls back/);
    expect((await demoBundle('micropython-v1.13-mqboard')).description).toMatch(/original MQBoard boards/);
    expect((await demoBundle('micropython-v1.14-mqboard-panics')).description).toMatch(/rolls it back/);
    await expect(demoBundle('firmware-9.9')).rejects.toThrow(
      'there is no demo example named "firmware-9.9"; there are greenhouse-2.5.0, greenhouse-2.6.0-crashes, micropython-v1.13-mqboard, micropython-v1.14-mqboard-panics',
    );
    // Each caller gets its own bytes.
    all[0]!.bytes.fill(0);
    expect((await demoBundles())[0]!.bytes.some((b) => b !== 0)).toBe(true);
  });

  describe('sent to a runtime device by OTA', () => {
    let broker: EmbeddedBroker;
    let engine: Engine;
    let device: DeviceHandle | undefined;
    const root = tempDir('demo-bundles');
    const P = 'greenhouse/canary';
    const state = () => engine.device(P);

    beforeAll(async () => {
      broker = await startEmbeddedBroker();
      engine = await connectedEngine(broker.url, { depths: [2] });
      // A demo device: blinky from /lib, a watchdog that confirms a boot at its first feed.
      writeFileSync(
        path.join(root.dir, 'config.json'),
        JSON.stringify({ modules: ['blinky'], blinky: { period: 1 }, watchdog: { timeoutS: 8, initialS: 8, allokS: 0 } }),
      );
      await installDemo(root.dir);
      device = await startDevice({ url: broker.url, prefix: P, root: root.dir, firmware: '2.4.1', moduleRetryMs: 200 });
      // The status sent at connect may come before the modules have started; a second one names them.
      await waitForDevices(engine, () => state()?.presence === 'online' && state()?.modules?.includes('blinky') === true);
    });
    afterAll(async () => {
      await device?.stop();
      await engine?.disconnect();
      await broker?.close();
      root.remove();
    });

    it('the good one boots, reports 2.5.0 and confirms it', async () => {
      expect(state()).toMatchObject({ firmware: '2.4.1', modules: ['blinky'] });
      await engine.ota(P, (await demoBundle('greenhouse-2.5.0')).bytes);
      await engine.reset(P, 'soft');
      await waitForDevices(engine, () => state()?.presence === 'online' && state()?.firmware === '2.5.0' && state()?.ota?.confirmed === true);
      expect(state()).toMatchObject({ bootReason: 'ota', modules: ['climate'], crashCount: 0 });
    });

    it('the crashing one fails its trial boot and the device rolls back to 2.5.0, with a crash record', async () => {
      await engine.ota(P, (await demoBundle('greenhouse-2.6.0-crashes')).bytes);
      await engine.reset(P, 'soft');
      // The status sent at connect may come before the one naming the modules it started.
      await waitForDevices(engine, () => state()?.presence === 'online' && state()?.bootReason === 'rollback' && state()?.modules?.includes('climate') === true);
      expect(state()).toMatchObject({ firmware: '2.5.0', modules: ['climate'], ota: { confirmed: true } });
      await waitForDevices(engine, () => engine.crashes(P).length > 0);
      expect(engine.crashes(P).at(-1)).toMatchObject({ reason: 'boot-failure', message: expect.stringMatching(/^climate: .*reading 'map'/) });
    });

    it('on a supervised runtime, as the demo fleet runs them, the crashing one rolls back to the 2.4.1 it ran', async () => {
      const Q = 'greenhouse/supervised';
      const dir = path.join(root.dir, 'supervised');
      mkdirSync(dir);
      writeFileSync(path.join(dir, 'config.json'), JSON.stringify({ modules: ['blinky'], watchdog: { timeoutS: 8, initialS: 8, allokS: 0 } }));
      await installDemo(dir);
      const sup = await startSupervisedDevice({ url: broker.url, prefix: Q, root: dir, firmware: '2.4.1', moduleRetryMs: 200 });
      try {
        await waitForDevices(engine, () => engine.device(Q)?.presence === 'online');
        await engine.ota(Q, (await demoBundle('greenhouse-2.6.0-crashes')).bytes);
        await engine.reset(Q, 'soft');
        await waitForDevices(engine, () => engine.device(Q)?.presence === 'online' && engine.device(Q)?.bootReason === 'rollback');
        expect(engine.device(Q)).toMatchObject({ firmware: '2.4.1', modules: ['blinky'], ota: { confirmed: true } });
      } finally {
        await sup.stop();
      }
    });
  });
});

describe.skipIf(pythonMissing)('the demo firmware images rolled out to original boards', () => { // skipped without python3, which runs the original-board simulator: apt-get install python3 (CI installs it)
  let broker: EmbeddedBroker;
  let engine: Engine;
  const boards: OriginalBoard[] = [];
  const roots = [tempDir('demo-fw-1'), tempDir('demo-fw-2')];
  const state = tempDir('demo-fw-state');
  const members = ['lab/original-1', 'lab/original-2'];
  let manager: RolloutManager;
  const firmware = () => members.map((p) => engine.device(p)?.firmware);

  /** Rolls the example out to both boards, one canary first, and waits until the rollout stops. */
  const rollOut = async (name: string) => {
    const example = await demoBundle(name);
    const input = RolloutInput.parse({ image: { from: 'example', name }, prefixes: members, waves: '1,100%', soakS: 1, onlineWithinS: 30 });
    const r = await manager.start({ input, image: example.bytes, info: await describeRolloutImage(name, example.bytes) });
    return { settled: await manager.settled(r.id), devices: manager.get(r.id).devices };
  };

  beforeAll(async () => {
    broker = await startEmbeddedBroker();
    engine = await connectedEngine(broker.url, { depths: [2] });
    // Boards as the demo's: the stock build; fed often and all-OK soon, so the test is quick.
    for (const [i, r] of roots.entries()) boards.push(await startOriginalBoard({ url: broker.url, prefix: members[i]!, root: r.dir, watchdogIntervalMs: 200, allokMs: 1500 }));
    await waitForDevices(engine, () => members.every((p) => engine.device(p)?.presence === 'online' && engine.device(p)?.firmware === 'v1.12-mqboard'));
    manager = createRolloutManager({ engine, store: createRolloutStore(path.join(state.dir, 'rollouts')), profile: () => 'demo', eventMs: 20 });
  }, 30_000);
  afterAll(async () => {
    await manager?.close();
    await engine?.disconnect();
    for (const b of boards) await b.stop();
    await broker?.close();
    for (const r of [...roots, state]) r.remove();
  });

  it('the good one passes the gate on every board, which then runs v1.13-mqboard', async () => {
    const { settled, devices } = await rollOut('micropython-v1.13-mqboard');
    expect(settled).toMatchObject({ state: 'done', counts: { updated: 2 } });
    for (const d of devices) expect(d).toMatchObject({ state: 'updated', from: 'v1.12-mqboard', now: 'v1.13-mqboard' });
    expect(firmware()).toEqual(['v1.13-mqboard', 'v1.13-mqboard']);
    expect(await engine.eval(members[1]!, 'import os\nprint(os.uname().version.split()[0])')).toBe('v1.13-mqboard\r\n');
  }, 90_000);

  it('the panicking one stops the rollout at the canary, which is back on v1.13-mqboard; the other board is untouched', async () => {
    const { settled, devices } = await rollOut('micropython-v1.14-mqboard-panics');
    expect(settled).toMatchObject({ state: 'paused', pausedReason: 'the canary wave had 1 device fail the gate (allowed: 0)' });
    expect(devices.map((d) => [d.wave, d.state, d.now])).toEqual([
      [0, 'rolled-back', 'v1.13-mqboard'],
      [1, 'pending', undefined],
    ]);
    expect(firmware()).toEqual(['v1.13-mqboard', 'v1.13-mqboard']);
  }, 90_000);
});
