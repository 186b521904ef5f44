// The rollout part of the bridge as a page calls it through the bridge host: the demo's example
// images (bundles and firmware, each said to be which), a plan for review, a rollout of the good one to devices of our runtime on a real
// broker (aedes) streamed on `rollouts`, a staged image that crashes at boot stopped at the
// canary, retried and aborted, and rollouts kept per broker profile.
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { BridgeEvent, CallReply, RolloutDevice, RolloutExample, RolloutPlan, RolloutSummary } from '../../../protocol/src';
import { startFleet, type FleetHandle } from '../../../device-runtime/src';
import { startEmbeddedBroker, type EmbeddedBroker } from '../../../testing/brokers';
import { connectedEngine, tempDir, waitForDevices } from '../engine/test-support';
import type { Engine } from '../engine/types';
import { createBridgeHost, type BridgeClient, type Handlers } from './bridge-host';
import { demoBundles } from './demo-bundles';
import { createRolloutHandlers, type RolloutService } from './rollout-handlers';
import { createTransferStages } from './transfer-stages';

let broker: EmbeddedBroker;
let engine: Engine;
let fleet: FleetHandle;
const roots = tempDir('rollout-handlers-dev');
const settings = tempDir('rollout-handlers-settings');
const N = 3;
const members = Array.from({ length: N }, (_, i) => `rh/f/${String(i + 1).padStart(3, '0')}`);
const services: RolloutService[] = [];

beforeAll(async () => {
  broker = await startEmbeddedBroker();
  engine = await connectedEngine(broker.url, { depths: [3] });
  for (let i = 1; i <= N; i++) {
    const dir = path.join(roots.dir, String(i).padStart(3, '0'));
    mkdirSync(dir, { recursive: true });
    writeFileSync(path.join(dir, 'config.json'), JSON.stringify({ watchdog: { timeoutS: 4, initialS: 10, allokS: 0.5 } }));
  }
  fleet = await startFleet({ url: broker.url, prefix: 'rh/f', root: roots.dir, count: N, firmware: '2.4.0', moduleRetryMs: 10_000 });
  await waitForDevices(engine, () => members.every((p) => engine.device(p)?.presence === 'online' && engine.device(p)?.ota !== undefined));
});
afterAll(async () => {
  for (const s of services) await s.close();
  await engine?.disconnect();
  await fleet?.stop();
  await broker?.close();
  roots.remove();
  settings.remove();
});

function open() {
  const state = { profile: 'home' as string | null };
  const events: BridgeEvent[] = [];
  const stages = createTransferStages();
  const service = createRolloutHandlers({
    engine,
    dir: path.join(settings.dir, 'rollouts'),
    profile: () => state.profile,
    stages,
    examples: demoBundles,
    publish: (e) => events.push(e),
  });
  services.push(service);
  const client: BridgeClient = createBridgeHost(service.handlers as Handlers).connect(() => undefined);
  let n = 0;
  const call = async (op: string, args: unknown = {}): Promise<CallReply> => (await client.call(op, { id: `c${++n}`, args })).reply;
  const ok = async <T>(op: string, args: unknown = {}): Promise<T> => {
    const r = await call(op, args);
    if (!r.ok) throw new Error(`${op}: ${r.error.code} ${r.error.message}`);
    return r.result as T;
  };
  const stage = (name: string, bytes: Uint8Array) => {
    const id = stages.create(bytes.length, name);
    stages.append(id, 0, bytes);
    return id;
  };
  /** The rollout's summary once the stream says it left `running`. */
  const settled = async (id: string) => {
    let last: RolloutSummary | undefined;
    await vi.waitFor(
      () => {
        last = events.flatMap((e) => (e.stream === 'rollouts' && e.rollout.id === id ? [e.rollout] : [])).at(-1);
        expect(last?.state).not.toBe('running');
      },
      { timeout: 40_000, interval: 50 },
    );
    return last!;
  };
  const streamed = (id: string) => {
    const rows = new Map<string, RolloutDevice>();
    for (const e of events) if (e.stream === 'rollouts' && e.rollout.id === id) for (const d of e.devices) rows.set(d.prefix, d);
    return rows;
  };
  return { state, call, ok, stage, settled, streamed, stages };
}

const examples = async () => {
  const all = await demoBundles();
  return { good: all.find((b) => !b.name.includes('crash'))!, crashing: all.find((b) => b.name.includes('crash'))! };
};

describe('rollouts through the bridge', () => {
  it('lists the example bundles, plans for review and rolls the good one out, streaming every device', async () => {
    const h = open();
    const { examples: listed } = await h.ok<{ examples: RolloutExample[] }>('rolloutExamples');
    const { good } = await examples();
    expect(listed).toContainEqual({ name: good.name, kind: 'bundle', description: good.description, version: good.version, size: good.bytes.length });

    const input = { image: { from: 'example', name: good.name }, prefixes: members, waves: '1,100%', concurrency: 2, soakS: 1, onlineWithinS: 30 };
    const { plan } = await h.ok<{ plan: RolloutPlan }>('rolloutPlan', input);
    expect(plan.image).toMatchObject({ kind: 'bundle', version: good.version, size: good.bytes.length });
    expect(plan.waves.map((w) => w.prefixes)).toEqual([[members[0]], members.slice(1)]);

    const { rollout } = await h.ok<{ rollout: RolloutSummary }>('rolloutStart', input);
    expect(rollout).toMatchObject({ state: 'running', profile: 'home', name: `${good.name} ${good.version}`, options: { waves: '1,100%', onlyOutdated: true, offline: 'skip' } });
    expect(await h.settled(rollout.id)).toMatchObject({ state: 'done', counts: { updated: N } });
    const rows = h.streamed(rollout.id);
    expect([...rows.values()].map((d) => [d.prefix, d.state, d.now])).toEqual(members.map((p) => [p, 'updated', good.version]));

    const { rollouts } = await h.ok<{ rollouts: RolloutSummary[] }>('rolloutList');
    expect(rollouts[0]).toMatchObject({ id: rollout.id, state: 'done' });
    const got = await h.ok<{ rollout: RolloutSummary; devices: RolloutDevice[] }>('rolloutGet', { id: rollout.id });
    expect(got.devices.every((d) => d.checks.every((c) => c.state === 'passed'))).toBe(true);

    // Another broker profile sees none of it.
    h.state.profile = 'office';
    expect((await h.ok<{ rollouts: RolloutSummary[] }>('rolloutList')).rollouts).toEqual([]);
    const other = await h.call('rolloutGet', { id: rollout.id });
    expect(other.ok ? undefined : other.error.code).toBe('not-found');
    h.state.profile = 'home';
    await h.ok('rolloutForget', { id: rollout.id });
    expect((await h.ok<{ rollouts: RolloutSummary[] }>('rolloutList')).rollouts).toEqual([]);
  }, 60_000);

  it('stops a staged image that crashes at boot at the canary; retry tries it again, abort leaves the rest as they are', async () => {
    const h = open();
    const { crashing, good } = await examples();
    const stage = h.stage('crashes.tar', crashing.bytes);
    const { rollout } = await h.ok<{ rollout: RolloutSummary }>('rolloutStart', { image: { from: 'stage', stage }, prefixes: members, waves: '1,100%', soakS: 1, onlineWithinS: 30 });
    // The rollout keeps its own copy: the stage is gone.
    expect(() => h.stages.peek(stage)).toThrow(/no staged upload/);
    const paused = await h.settled(rollout.id);
    expect(paused).toMatchObject({ state: 'paused', pausedReason: 'the canary wave had 1 device fail the gate (allowed: 0)', counts: { 'rolled-back': 1, pending: N - 1 } });
    expect(h.streamed(rollout.id).get(members[0]!)).toMatchObject({ state: 'rolled-back', now: good.version });

    await h.ok('rolloutRetry', { id: rollout.id });
    await vi.waitFor(() => expect(h.streamed(rollout.id).get(members[0]!)?.state).not.toBe('rolled-back'), { timeout: 10_000, interval: 20 });
    expect((await h.settled(rollout.id)).state).toBe('paused');

    const { rollout: aborted } = await h.ok<{ rollout: RolloutSummary }>('rolloutAbort', { id: rollout.id });
    expect(aborted).toMatchObject({ state: 'aborted', counts: { 'rolled-back': 1, cancelled: N - 1 } });
    expect(members.map((p) => engine.device(p)?.firmware)).toEqual(members.map(() => good.version));
    const again = await h.call('rolloutResume', { id: rollout.id });
    expect(again.ok ? undefined : again.error).toEqual({ code: 'invalid-argument', message: `rollout ${rollout.id} is aborted, not paused` });
  }, 90_000);

  it('lists the firmware examples as firmware, and plans them for no device of our runtime, saying why', async () => {
    const h = open();
    const { examples: listed } = await h.ok<{ examples: RolloutExample[] }>('rolloutExamples');
    expect(listed.map((x) => [x.name, x.kind])).toEqual([
      ['greenhouse-2.5.0', 'bundle'],
      ['greenhouse-2.6.0-crashes', 'bundle'],
      ['micropython-v1.13-mqboard', 'firmware'],
      ['micropython-v1.14-mqboard-panics', 'firmware'],
    ]);
    const { plan } = await h.ok<{ plan: RolloutPlan }>('rolloutPlan', { image: { from: 'example', name: 'micropython-v1.13-mqboard' }, prefixes: members });
    expect(plan.image).toMatchObject({ kind: 'firmware', version: 'v1.13-mqboard' });
    expect(plan.waves.flatMap((w) => w.prefixes)).toEqual([]);
    expect(plan.skipped).toEqual(members.map((prefix) => ({ prefix, reason: 'the MQBoard runtime takes app bundles, not ESP32 firmware' })));
  });

  it('says what is wrong with a call, in words', async () => {
    const h = open();
    const junk = h.stage('notes.txt', new TextEncoder().encode('not an image at all, just some text that goes on for a while'));
    const bad = await h.call('rolloutPlan', { image: { from: 'stage', stage: junk }, prefixes: members });
    expect(bad.ok ? undefined : bad.error.code).toBe('invalid-argument');
    expect(bad.ok ? '' : bad.error.message).toMatch(/^notes\.txt: not an app bundle/);
    const missing = await h.call('rolloutPlan', { image: { from: 'example', name: 'nope' }, prefixes: members });
    expect(missing.ok ? undefined : missing.error).toEqual({ code: 'not-found', message: 'there is no example image named "nope"' });
    const waves = await h.call('rolloutPlan', { image: { from: 'example', name: (await examples()).good.name }, prefixes: members, waves: '0,100%' });
    expect(waves.ok ? undefined : waves.error.code).toBe('invalid-argument');
    // Everything is already on the version: nothing to start.
    const none = await h.call('rolloutStart', { image: { from: 'example', name: (await examples()).good.name }, prefixes: members });
    expect(none.ok ? '' : none.error.message).toMatch(/^no device to update: 3 skipped \(already on/);
    h.state.profile = null;
    const offline = await h.call('rolloutList');
    expect(offline.ok).toBe(true);
    const start = await h.call('rolloutStart', { image: { from: 'example', name: 'x' }, prefixes: members });
    expect(start.ok ? undefined : start.error.code).toBe('not-connected');
  }, 30_000);
});
