// The app's job list on a real broker (aedes) and a device of our runtime: how many jobs and
// how many bytes of put files it keeps, so a long session cannot grow the host without bound.
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDevice, type DeviceHandle } from '../../../device-runtime/src';
import { startEmbeddedBroker, type EmbeddedBroker } from '../../../testing/brokers';
import { openCommandQueue } from '../engine/fleet/queue';
import { connectedEngine, tempDir, waitForDevices } from '../engine/test-support';
import type { Engine } from '../engine/types';
import { createJobs, KEPT_JOBS, type JobOptions } from './fleet-jobs';

let broker: EmbeddedBroker;
let engine: Engine;
let device: DeviceHandle;
const dir = tempDir('fleet-jobs');
const P = 'fj/dev';
const opts: JobOptions = { concurrency: 4, timeoutMs: 10_000, offline: 'fail' };

beforeAll(async () => {
  broker = await startEmbeddedBroker();
  engine = await connectedEngine(broker.url, { depths: [2] });
  device = await startDevice({ url: broker.url, prefix: P, root: path.join(dir.dir, 'dev') });
  await waitForDevices(engine, () => engine.device(P)?.presence === 'online');
});
afterAll(async () => {
  await engine?.disconnect();
  await device?.stop();
  await broker?.close();
  dir.remove();
});

const jobsFor = (keptPutBytes?: number) =>
  createJobs({ engine, queue: openCommandQueue(path.join(dir.dir, `q${Math.random()}.json`)), profile: () => 'home', publish: () => undefined, queued: () => undefined, keptPutBytes });

describe('the jobs the app keeps', () => {
  it(`keeps the last ${KEPT_JOBS} finished jobs and lets the oldest go`, async () => {
    const jobs = jobsFor();
    try {
      const ids: string[] = [];
      for (let i = 0; i <= KEPT_JOBS; i++) {
        const j = jobs.start({ kind: 'eval', code: `${i}` }, [P], opts);
        ids.push(j.id);
        await jobs.settled(j.id);
      }
      expect(jobs.list()).toHaveLength(KEPT_JOBS);
      expect(jobs.list()[0]!.id).toBe(ids.at(-1));
      expect(() => jobs.get(ids[0]!)).toThrow(/^no job \S+ \(only the last 50 are kept\)$/);
      expect(jobs.get(ids[1]!).results).toEqual([expect.objectContaining({ prefix: P, status: 'ok', output: '1' })]);
    } finally {
      jobs.close();
    }
  });

  it('lets older jobs’ put files go past its byte budget: they can no longer be re-run, newer ones can', async () => {
    const jobs = jobsFor(10_000);
    try {
      const put = (name: string) => ({ kind: 'put' as const, files: [{ path: `/${name}`, data: new Uint8Array(6_000).fill(1) }] });
      const first = jobs.start(put('one.bin'), [P], opts);
      await jobs.settled(first.id);
      const second = jobs.start(put('two.bin'), [P], opts);
      await jobs.settled(second.id);
      expect(() => jobs.rerun(first.id, 'all')).toThrow(/the files of job .* are no longer kept/);
      const again = jobs.rerun(second.id, 'all');
      await jobs.settled(again.id);
      expect(jobs.get(again.id)).toMatchObject({ job: { rerunOf: second.id, counts: { ok: 1 } }, results: [{ prefix: P, status: 'ok' }] });
      // Only devices that failed are re-run by default; here none did.
      expect(() => jobs.rerun(again.id, 'failed')).toThrow(/nothing to run again/);
    } finally {
      jobs.close();
    }
  });
});
