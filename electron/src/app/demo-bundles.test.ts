// The demo's example app bundles are real updates for our runtime: sent by OTA through a real
// engine to a runtime device set up like a demo device (firmware 2.4.1, blinky in /lib), the
// good one boots, reports its version and confirms; the crashing one fails its trial boot, leaves
// a crash record, and the device rolls back to the version it ran before, in-process and under
// the supervisor that runs each demo board.
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { installDemo, startDevice, startSupervisedDevice, type DeviceHandle } from '../../../device-runtime/src';
import { whyNotBundle } from '../../../device-runtime/src/bundle';
import { startEmbeddedBroker, type EmbeddedBroker } from '../../../testing/brokers';
import { connectedEngine, tempDir, waitForDevices } from '../engine/test-support';
import type { Engine } from '../engine/types';
import { demoBundle, demoBundles } from './demo-bundles';

describe('the demo app bundles', () => {
  it('are a good 2.5.0 and a 2.6.0 that crashes, each a real app bundle, with words for the user', async () => {
    const all = await demoBundles();
    expect(all.map((b) => [b.name, b.version])).toEqual([
      ['greenhouse-2.5.0', '2.5.0'],
      ['greenhouse-2.6.0-crashes', '2.6.0'],
    ]);
    for (const b of all) {
      expect(whyNotBundle(b.bytes.subarray(0, 512))).toBeUndefined();
      expect(b.description.length).toBeGreaterThan(20);
    }
    expect((await demoBundle('greenhouse-2.6.0-crashes')).description).toMatch(/rolls back/);
    await expect(demoBundle('firmware-9.9')).rejects.toThrow('there is no demo bundle named "firmware-9.9"; there are greenhouse-2.5.0, greenhouse-2.6.0-crashes');
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
      await waitForDevices(engine, () => state()?.presence === 'online' && state()?.bootReason === 'rollback');
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
