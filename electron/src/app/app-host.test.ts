// The app host end to end without a browser: a saved profile connects at start-up, its devices
// arrive as batched bridge events, and switching to another broker replaces the fleet without a
// restart. The demo fleet runs in processes of its own on a broker that takes only the app's
// per-run credentials, and stays up, on the same port, while the user looks elsewhere.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import mqtt from 'mqtt';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import type { EventBatch } from '../../../protocol/src';
import { DEMO_PROFILE_ID, utf8 } from '../../../protocol/src';
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

describe('the demo fleet', () => {
  let dir: string;
  let host: AppHost;
  let other: EmbeddedBroker;
  const CLIMATE = 'greenhouse/climate-1';
  const online = (prefix: string) =>
    vi.waitFor(() => expect(host.engine.device(prefix)?.presence).toBe('online'), { timeout: 90_000, interval: 100 });
  /** The pid of the process that runs the device's eval, and of that process's parent. */
  const pids = async (prefix: string) => {
    const out = await host.engine.eval(prefix, "(p => [p.pid, p.ppid])(this.constructor.constructor('return process')())");
    return (out.match(/\d+/g) ?? []).map(Number) as [number, number];
  };
  const binEnv = (pid: number) =>
    Object.fromEntries(
      readFileSync(`/proc/${pid}/environ`, 'utf8')
        .split('\0')
        .map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]),
    );
  const tryConnect = (url: string, auth: { username?: string; password?: string }) =>
    new Promise<string>((resolve) => {
      const c = mqtt.connect(url, { ...auth, protocolVersion: 4, reconnectPeriod: 0, connectTimeout: 5_000 });
      const done = (result: string) => {
        resolve(result);
        c.end(true);
      };
      c.once('connect', () => done('connected'));
      c.once('error', (e) => done(e.message));
      c.once('close', () => done('closed'));
    });

  beforeAll(async () => {
    other = await startEmbeddedBroker({ port: 0 });
    dir = mkdtempSync(path.join(os.tmpdir(), 'mqb-host-demo-'));
    // No settings yet: the first run opens the demo.
    host = await createAppHost({ shell: 'web', version: 't', settingsDir: dir, codec: plainFileCodec });
    await online(CLIMATE);
  }, 120_000);
  afterAll(async () => {
    await host?.close();
    await other?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('runs its devices outside the host, on a broker that refuses anyone without this run\'s credentials', async () => {
    const [pid, bin] = await pids(CLIMATE);
    expect(pid).not.toBe(process.pid);
    expect(bin).not.toBe(process.pid);
    // It reports the memory of the ESP32 it stands in for, not the host's gigabytes.
    expect(host.engine.device(CLIMATE)?.freeMem).toBeLessThan(320 * 1024);
    const url = host.info().demo!.url;
    expect(url).toMatch(/^mqtt:\/\/127\.0\.0\.1:\d+$/);
    // The device bin has the credentials in its environment, never on its command line.
    const env = binEnv(bin);
    expect(env.MQBOARD_USER).toBeTruthy();
    expect(env.MQBOARD_PASSWORD!.length).toBeGreaterThanOrEqual(24);
    expect(readFileSync(`/proc/${bin}/cmdline`, 'utf8')).not.toContain(env.MQBOARD_PASSWORD);
    expect(JSON.stringify(host.info())).not.toContain(env.MQBOARD_PASSWORD);
    expect(await tryConnect(url, {})).toMatch(/Bad username or password/i);
    expect(await tryConnect(url, { username: env.MQBOARD_USER, password: `${env.MQBOARD_PASSWORD}x` })).toMatch(/Bad username or password/i);
    expect(await tryConnect(url, { username: env.MQBOARD_USER, password: env.MQBOARD_PASSWORD })).toBe('connected');
  });

  it('keeps the host answering while a device is in a busy loop, and Ctrl-C stops the loop', async () => {
    let text = '';
    const term = await host.engine.terminals.open(CLIMATE, { cols: 100, rows: 30 }, { onData: (d) => (text += d), onEnd: () => undefined });
    await vi.waitFor(() => expect(text).toContain('›'), { timeout: 10_000 });
    await host.engine.terminals.write(term.id, 'while (true) {}\r');
    // The loop holds its device's event loop only: the host's timers fire, and the broker and
    // the other demo devices answer.
    await new Promise((r) => setTimeout(r, 300));
    expect(await host.engine.eval('greenhouse/climate-2', '6 * 7')).toBe('42');
    expect(text).not.toContain('interrupted');
    await host.engine.terminals.interrupt(term.id);
    await vi.waitFor(() => expect(text).toContain('^C interrupted'), { timeout: 10_000 });
    text = '';
    await host.engine.terminals.write(term.id, '1 + 1\r');
    // eslint-disable-next-line no-control-regex -- the REPL colours its results
    await vi.waitFor(() => expect(text.replace(/\x1b\[[0-9;]*m/g, '')).toMatch(/\r\n2\r\n/), { timeout: 10_000 });
    await host.engine.terminals.close(term.id);
  });

  it('starts a device process again when it dies', async () => {
    const [before, bin] = await pids(CLIMATE);
    process.kill(bin, 'SIGKILL');
    await vi.waitFor(() => expect(host.engine.device(CLIMATE)?.presence).not.toBe('online'), { timeout: 30_000, interval: 100 });
    await online(CLIMATE);
    const [after, newBin] = await vi.waitFor(() => pids(CLIMATE), { timeout: 20_000 });
    expect(after).not.toBe(before);
    expect(newBin).not.toBe(bin);
  }, 120_000);

  it('keeps the same broker and device state while the user looks at another broker', async () => {
    const url = host.info().demo!.url;
    await host.engine.put(CLIMATE, '/kept.txt', utf8('still here'));
    const p = host.profiles.save({ name: 'Other', url: other.url });
    await host.useProfile(p.id);
    expect(host.info().demo).toBeNull();
    expect(host.engine.device(CLIMATE)).toBeUndefined();
    await host.useProfile(DEMO_PROFILE_ID);
    expect(host.info().demo?.url).toBe(url);
    await online(CLIMATE);
    expect(new TextDecoder().decode(await host.engine.get(CLIMATE, '/kept.txt'))).toBe('still here');
  }, 120_000);

  it('runs simulated devices in processes of their own, with the demo credentials', async () => {
    const prefixes = await host.startSimulator('sim', 2);
    expect(prefixes).toEqual(['sim/001', 'sim/002']);
    await online('sim/002');
    const [pid, bin] = await pids('sim/002');
    expect([pid, bin]).not.toContain(process.pid);
  }, 120_000);
});
