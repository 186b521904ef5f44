// The demo fleet as a new user meets it, seen through a real engine: its devices carry tags to
// select them by, and its battery board goes to sleep saying when it will be back. Its cycles
// shortened, the way the end-to-end tests run it.
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createEngine } from '../engine';
import { waitForDevices } from '../engine/test-support';
import type { Engine } from '../engine/types';
import { DEMO_TIMINGS, demoTimingsFromEnv, startDemo, type Demo } from './demo';

const SLEEP_S = 3;

describe('the demo fleet', () => {
  let demo: Demo;
  let engine: Engine;
  beforeAll(async () => {
    demo = await startDemo({ sleepS: SLEEP_S, allOkS: 5 });
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

  it('has a battery board that sleeps after a short wake for as long as it was told, and says when it will be back', async () => {
    const P = 'field/soil-probe';
    await waitForDevices(engine, () => engine.device(P)?.presence === 'offline' && engine.device(P)?.offlineReason === 'sleep');
    const asleep = Date.now();
    expect(engine.device(P)).toMatchObject({ wake: expect.any(Number), tags: ['field', 'sensor', 'battery'] });
    // The wake it names is one sleep away (its clock is this machine's), not the default 40 s.
    expect(engine.device(P)!.wake! - asleep).toBeLessThanOrEqual(SLEEP_S * 1000);
    await waitForDevices(engine, () => engine.device(P)?.presence === 'online');
  }, 120_000);
});

describe('the demo timings from the environment', () => {
  it('are the defaults when nothing is set, and whole seconds in range when set', () => {
    expect(demoTimingsFromEnv({})).toEqual(DEMO_TIMINGS);
    expect(demoTimingsFromEnv({ MQBOARD_DEMO_SLEEP_S: '12', MQBOARD_DEMO_ALLOK_S: ' 5 ' })).toEqual({ sleepS: 12, allOkS: 5 });
  });

  it('keep the default for a value that is no whole number of seconds in range, and say so', () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    try {
      for (const bad of ['abc', '0', '1', '-5', '2.5', '1e3', '99999', '0x10']) {
        expect(demoTimingsFromEnv({ MQBOARD_DEMO_SLEEP_S: bad, MQBOARD_DEMO_ALLOK_S: bad })).toEqual(DEMO_TIMINGS);
      }
      expect(warn).toHaveBeenCalledWith(expect.stringMatching(/^mqboard: MQBOARD_DEMO_SLEEP_S must be a whole number of seconds from 2 to 3600; using 40$/));
      expect(warn).toHaveBeenCalledWith(expect.stringMatching(/^mqboard: MQBOARD_DEMO_ALLOK_S must be a whole number of seconds from 3 to 600; using 15$/));
    } finally {
      warn.mockRestore();
    }
  });
});
