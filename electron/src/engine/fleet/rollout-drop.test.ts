// A rollout's gate when the host loses its broker connection (a real broker, real devices of our
// runtime; the host alone goes through a proxy that cuts it off): nothing is judged while the host
// cannot see, a device that stayed in the same run passes once it can again, and one that rebooted
// meanwhile fails, named as such.
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createBundle, startFleet, type FleetHandle } from '../../../../device-runtime/src';
import { startEmbeddedBroker, type EmbeddedBroker } from '../../../../testing/brokers';
import { startStallProxy, type StallProxy } from '../../../../testing/stall-proxy';
import type { RolloutInput } from '../../../../protocol/src/bridge-rollouts';
import { RolloutInput as RolloutInputSchema } from '../../../../protocol/src/bridge-rollouts';
import { connectedEngine, tempDir, waitForDevices } from '../test-support';
import type { Engine } from '../types';
import { createRolloutManager, createRolloutStore, type RolloutManager } from './rollout';
import { describeRolloutImage } from './rollout-image';

const delay = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('a rollout whose host loses the broker mid-gate', () => {
  let broker: EmbeddedBroker;
  let proxy: StallProxy;
  let fleet: FleetHandle;
  /** The host, connected through the proxy. */
  let engine: Engine;
  /** Another client on the broker, which never loses it. */
  let observer: Engine;
  const root = tempDir('rollout-drop-fleet');
  const state = tempDir('rollout-drop-state');
  const members = ['rd/f/001', 'rd/f/002'];
  const managers: RolloutManager[] = [];

  const manager = (): RolloutManager => {
    const m = createRolloutManager({ engine, store: createRolloutStore(path.join(state.dir, 'rollouts')), profile: () => 'test-broker', eventMs: 20, minConfirmMs: 20_000 });
    managers.push(m);
    return m;
  };
  const good = (version: string) => createBundle({ name: 'weather', version, modules: ['app'] }, { 'app.mjs': `export function start(mqtt) { mqtt.log.info('weather ${version} running'); }\n` });
  const input = (prefix: string, soakS: number): RolloutInput =>
    RolloutInputSchema.parse({ image: { from: 'example', name: 'test' }, prefixes: [prefix], waves: '100%', concurrency: 1, soakS, onlineWithinS: 30 });
  const soaking = async (m: RolloutManager, id: string) =>
    vi.waitFor(() => expect(m.get(id).devices[0]!.state).toBe('soaking'), { timeout: 30_000, interval: 5 });
  const cutOff = async () => {
    proxy.cut();
    await vi.waitFor(() => expect(engine.connection().phase).not.toBe('connected'), { timeout: 10_000, interval: 5 });
  };

  beforeAll(async () => {
    broker = await startEmbeddedBroker();
    proxy = await startStallProxy(Number(new URL(broker.url).port));
    for (let i = 1; i <= members.length; i++) {
      const dir = path.join(root.dir, String(i).padStart(3, '0'));
      mkdirSync(dir, { recursive: true });
      // Confirmed at the first watchdog feed after 0.5 s.
      writeFileSync(path.join(dir, 'config.json'), JSON.stringify({ watchdog: { timeoutS: 4, initialS: 10, allokS: 0.5 } }));
    }
    fleet = await startFleet({ url: broker.url, prefix: 'rd/f', root: root.dir, count: members.length, firmware: '1.0.0' });
    engine = await connectedEngine(proxy.url, { depths: [3] });
    observer = await connectedEngine(broker.url, { depths: [3] });
    await waitForDevices(engine, () => members.every((p) => engine.device(p)?.presence === 'online' && engine.device(p)?.ota !== undefined));
  });
  afterAll(async () => {
    for (const m of managers) await m.close();
    await engine?.disconnect();
    await observer?.disconnect();
    await fleet?.stop();
    await proxy?.close();
    await broker?.close();
    root.remove();
    state.remove();
  });

  it('holds the gate while the host cannot see: a device still in the same run passes once it can again', async () => {
    const m = manager();
    const image = await good('2.0.0');
    const r = await m.start({ input: input(members[0]!, 2), image, info: await describeRolloutImage('weather-2.0.0.tar', image) });
    await soaking(m, r.id);
    await cutOff();
    // The soak's end passes while the host is cut off: the device is neither failed nor passed.
    await delay(3_000);
    expect(m.get(r.id).devices[0]).toMatchObject({ state: 'soaking' });
    proxy.restore();
    expect(await m.settled(r.id)).toMatchObject({ state: 'done', counts: { updated: 1 } });
    const d = m.get(r.id).devices[0]!;
    expect(d).toMatchObject({ state: 'updated', now: '2.0.0' });
    expect(d.checks.map((c) => c.state)).toEqual(['passed', 'passed', 'passed', 'passed']);
  }, 60_000);

  it('fails a device that rebooted while the host could not see it, though it is back on the new version', async () => {
    const p = members[1]!;
    const m = manager();
    const image = await good('2.1.0');
    const r = await m.start({ input: input(p, 60), image, info: await describeRolloutImage('weather-2.1.0.tar', image) });
    await soaking(m, r.id);
    const boot = observer.device(p)!.bootCount!;
    await cutOff();
    await observer.reset(p, 'hard');
    await waitForDevices(observer, () => observer.device(p)?.presence === 'online' && observer.device(p)!.bootCount! > boot);
    expect(observer.device(p)?.firmware).toBe('2.1.0');
    proxy.restore();
    await m.settled(r.id);
    const d = m.get(r.id).devices[0]!;
    expect(d.state).toBe('failed');
    expect(d.reason).toMatch(new RegExp(`^during the soak: rebooted while the host could not see it \\(boot ${boot + 1}, it came back in boot ${boot}\\)`));
    // It had confirmed the new version before: its runtime keeps it, and the gate says so.
    expect(d.reason).toMatch(/it had already confirmed 2\.1\.0, so its runtime keeps it$/);
    expect(d.checks.find((c) => c.name === 'no-crash')).toMatchObject({ state: 'failed' });
  }, 60_000);
});
