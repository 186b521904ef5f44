// The demo fleet as a new user meets it, seen through a real engine: its devices carry tags to
// select them by, and its battery board goes to sleep saying when it will be back.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEngine } from '../engine';
import { waitForDevices } from '../engine/test-support';
import type { Engine } from '../engine/types';
import { startDemo, type Demo } from './demo';

describe('the demo fleet', () => {
  let demo: Demo;
  let engine: Engine;
  beforeAll(async () => {
    demo = await startDemo();
    // Two bins with a supervised runtime process per board: slow to start on a busy machine.
    await demo.running();
    engine = createEngine();
    await engine.connect({ url: demo.url, ...demo.credentials, discovery: { depths: [2] } });
  }, 120_000);
  afterAll(async () => {
    await engine?.disconnect();
    await demo?.stop();
  });

  it('reports the tags each device has in its config', async () => {
    const tagged = ['greenhouse/climate-1', 'greenhouse/irrigation', 'workshop/compressor', 'field/soil-probe'];
    await waitForDevices(engine, () => tagged.every((p) => engine.device(p)?.tags !== undefined));
    expect(tagged.map((p) => [p, engine.device(p)!.tags])).toEqual([
      ['greenhouse/climate-1', ['greenhouse', 'sensor', 'climate']],
      ['greenhouse/irrigation', ['greenhouse', 'actuator']],
      ['workshop/compressor', ['workshop', 'actuator']],
      ['field/soil-probe', ['field', 'sensor', 'battery']],
    ]);
  }, 120_000);

  it('has a battery board that sleeps after a short wake and says when it will be back', async () => {
    const P = 'field/soil-probe';
    await waitForDevices(engine, () => engine.device(P)?.presence === 'offline' && engine.device(P)?.offlineReason === 'sleep');
    expect(engine.device(P)).toMatchObject({ wake: expect.any(Number), tags: ['field', 'sensor', 'battery'] });
  }, 120_000);
});
