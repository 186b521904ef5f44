// The fleet part of the bridge through the whole app host, as a window sees it: tags and a job
// on the connected broker's devices reach a subscribed window on the `fleet` and `jobs` streams,
// in batches.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { CallReply, EventBatch, JobSummary } from '../../../protocol/src';
import { startDevice } from '../../../device-runtime/src';
import { startEmbeddedBroker } from '../../../testing/brokers';
import { createAppHost } from './app-host';
import { openProfilesStore } from './profiles-store';
import { plainFileCodec } from './secrets';

describe('fleet bridge', () => {
  const cleanup: (() => Promise<unknown> | void)[] = [];
  afterEach(async () => {
    for (const c of cleanup.reverse()) await c();
    cleanup.length = 0;
  });

  it('streams tags and a job’s rows to a subscribed window', async () => {
    const broker = await startEmbeddedBroker({ port: 0 });
    cleanup.push(() => broker.close());
    const root = mkdtempSync(path.join(os.tmpdir(), 'mqb-fbr-dev-'));
    cleanup.push(() => rmSync(root, { recursive: true, force: true }));
    for (const p of ['fb/a', 'fb/b']) {
      const d = await startDevice({ url: broker.url, prefix: p, root: path.join(root, p) });
      cleanup.push(() => d.stop());
    }
    const dir = mkdtempSync(path.join(os.tmpdir(), 'mqb-fbr-host-'));
    cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
    const store = openProfilesStore(dir, plainFileCodec);
    store.setActive(store.save({ name: 'b', url: broker.url }).id);
    const host = await createAppHost({ shell: 'web', version: 't', settingsDir: dir, codec: plainFileCodec });
    cleanup.push(() => host.close());
    const batches: EventBatch[] = [];
    const client = host.bridge.connect((b) => batches.push(b));
    client.setStreams(['fleet', 'jobs']);
    let n = 0;
    const call = async (op: string, args: unknown): Promise<CallReply> => (await client.call(op, { id: `c${++n}`, args })).reply;
    await vi.waitFor(() => expect(['fb/a', 'fb/b'].every((p) => host.engine.device(p)?.presence === 'online')).toBe(true), { timeout: 10_000 });

    expect(await call('setTags', { prefixes: ['fb/a', 'fb/b'], add: ['bench'] })).toMatchObject({ ok: true });
    const started = await call('jobStart', { action: { kind: 'eval', code: '1 + 1' }, prefixes: ['fb/a', 'fb/b'] });
    expect(started).toMatchObject({ ok: true });
    const job = (started as { result: { job: JobSummary } }).result.job;
    const events = () => batches.flat();
    await vi.waitFor(() => expect(events().some((e) => e.stream === 'jobs' && e.job.id === job.id && e.job.state === 'done')).toBe(true), { timeout: 10_000 });
    const rows = events().flatMap((e) => (e.stream === 'jobs' ? e.results : []));
    expect(rows.filter((r) => r.status === 'ok').map((r) => r.prefix).sort()).toEqual(['fb/a', 'fb/b']);
    expect(events().find((e) => e.stream === 'fleet')).toMatchObject({ settings: { tags: { 'fb/a': ['bench'], 'fb/b': ['bench'] } } });
  });
});
