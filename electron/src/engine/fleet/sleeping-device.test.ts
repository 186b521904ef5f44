// A battery board that sleeps between short wakes (the runtime's --sleep-cycle), against a real
// broker (aedes) and a real engine: the engine lists it asleep with its wake time, a command
// for it is queued instead of failing, and the queue runner delivers it on the next wake.
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDevice, type DeviceHandle } from '../../../../device-runtime/src';
import { startEmbeddedBroker, type EmbeddedBroker } from '../../../../testing/brokers';
import { connectedEngine, tempDir, waitForDevices } from '../test-support';
import type { Engine } from '../types';
import { openCommandQueue, startQueueRunner, type QueuedItem } from './queue';
import { enginePresence, evalAction, runMany, type DeviceResult } from './run-many';

describe('a device that sleeps between wakes', () => {
  let broker: EmbeddedBroker;
  let engine: Engine;
  let device: DeviceHandle | undefined;
  const roots = tempDir('sleeper');
  const store = tempDir('sleeper-queue');
  const P = 'nap/soil-probe';

  beforeAll(async () => {
    broker = await startEmbeddedBroker();
    engine = await connectedEngine(broker.url, { depths: [2] });
  });
  afterAll(async () => {
    await device?.stop();
    await engine?.disconnect();
    await broker?.close();
    roots.remove();
    store.remove();
  });

  it('is listed asleep with its next wake, and gets a command queued for it on its next wake', async () => {
    device = await startDevice({ url: broker.url, prefix: P, root: path.join(roots.dir, 'probe'), sleepCycleMs: 1000, awakeMs: 300 });
    await waitForDevices(engine, () => engine.device(P)?.presence === 'online');
    await waitForDevices(engine, () => engine.device(P)?.presence === 'offline' && engine.device(P)?.offlineReason === 'sleep');
    const asleep = engine.device(P)!;
    expect(asleep).toMatchObject({ presence: 'offline', offlineReason: 'sleep' });
    expect(asleep.wake).toEqual(expect.any(Number));

    const queue = openCommandQueue(path.join(store.dir, 'queue.json'));
    const results: Array<[QueuedItem, DeviceResult]> = [];
    let delivered!: () => void;
    const done = new Promise<void>((r) => (delivered = r));
    const runner = startQueueRunner({
      engine,
      queue,
      profile: 'home',
      onResult: (item, r) => {
        results.push([item, r]);
        delivered();
      },
    });
    try {
      // Run on many, as the app and the CLI do: an asleep device's command goes to the queue.
      const [now] = await runMany([P], evalAction(engine, 'device.prefix + " read " + 41'), {
        presence: enginePresence(engine),
        enqueue: (p) => queue.add('home', p, { kind: 'eval', code: 'device.prefix + " read " + 41' }),
      });
      expect(now).toMatchObject({ prefix: P, status: 'queued' });

      await done;
      await runner.idle();
      expect(results.map(([i, r]) => [i.action.kind, r.prefix, r.status, r.output])).toEqual([['eval', P, 'ok', `'${P} read 41'`]]);
      expect(queue.list()).toEqual([]);
      // Served, it goes back to sleep.
      await waitForDevices(engine, () => engine.device(P)?.presence === 'offline' && engine.device(P)?.offlineReason === 'sleep');
    } finally {
      await runner.stop();
    }
  });
});
