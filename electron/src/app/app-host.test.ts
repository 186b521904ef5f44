// The app host end to end without a browser: a saved profile connects at start-up, its devices
// arrive as batched bridge events, and switching to another broker replaces the fleet without a
// restart.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { EventBatch } from '../../../protocol/src';
import { startDevice, type DeviceHandle } from '../../../device-runtime/src';
import { startEmbeddedBroker, type EmbeddedBroker } from '../../../testing/brokers';
import { createAppHost, type AppHost } from './app-host';
import { openProfilesStore } from './profiles-store';
import { plainFileCodec } from './secrets';

describe('app host', () => {
  const cleanup: (() => Promise<unknown> | void)[] = [];
  afterEach(async () => {
    for (const c of cleanup.reverse()) await c();
    cleanup.length = 0;
  });

  async function broker(): Promise<EmbeddedBroker> {
    const b = await startEmbeddedBroker({ port: 0 });
    cleanup.push(() => b.close());
    return b;
  }
  async function device(url: string, prefix: string): Promise<DeviceHandle> {
    const root = mkdtempSync(path.join(os.tmpdir(), 'mqb-host-dev-'));
    const d = await startDevice({ url, prefix, root });
    cleanup.push(async () => {
      await d.stop();
      rmSync(root, { recursive: true, force: true });
    });
    return d;
  }

  it('connects to the active profile, streams its devices and switches brokers', async () => {
    const [b1, b2] = [await broker(), await broker()];
    await device(b1.url, 'one/dev');
    await device(b2.url, 'two/dev');
    const dir = mkdtempSync(path.join(os.tmpdir(), 'mqb-host-'));
    cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
    const store = openProfilesStore(dir, plainFileCodec);
    const p1 = store.save({ name: 'First', url: b1.url });
    const p2 = store.save({ name: 'Second', url: b2.url });
    store.setActive(p1.id);

    const host: AppHost = await createAppHost({ shell: 'web', version: 't', settingsDir: dir, codec: plainFileCodec });
    cleanup.push(() => host.close());
    const batches: EventBatch[] = [];
    const client = host.bridge.connect((b) => batches.push(b));
    client.setStreams(['devices', 'profiles']);
    const list = async () => {
      const { reply } = await client.call('listDevices', { id: `l${Math.random()}`, args: {} });
      return reply.ok ? (reply.result as { prefix: string; presence: string }[]) : [];
    };

    await vi.waitFor(async () => expect(await list()).toEqual([expect.objectContaining({ prefix: 'one/dev', presence: 'online' })]), { timeout: 10_000 });
    expect(host.info()).toMatchObject({ demo: null, settings: { secrets: 'file-0600' } });

    const { reply } = await client.call('useProfile', { id: 'u1', args: { id: p2.id } });
    expect(reply).toMatchObject({ ok: true, result: { active: p2.id } });
    await vi.waitFor(async () => expect((await list()).map((d) => d.prefix)).toEqual(['two/dev']), { timeout: 10_000 });
    // The renderer hears about it through (batched) events: one/dev removed, two/dev added.
    await vi.waitFor(() => {
      const events = batches.flat();
      expect(events.some((e) => e.stream === 'devices' && e.removed.includes('one/dev'))).toBe(true);
      expect(events.some((e) => e.stream === 'devices' && e.changed.some((d) => d.prefix === 'two/dev'))).toBe(true);
    });
    expect(openProfilesStore(dir, plainFileCodec).state().active).toBe(p2.id);
  });

  it('reports an unknown profile as not-found', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'mqb-host-'));
    cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
    const host = await createAppHost({ shell: 'web', version: 't', settingsDir: dir, codec: plainFileCodec, demoOnFirstRun: false });
    cleanup.push(() => host.close());
    const { reply } = await host.bridge.connect(() => {}).call('useProfile', { id: 'x', args: { id: 'nope' } });
    expect(reply).toMatchObject({ ok: false, error: { code: 'not-found' } });
  });
});
