// Discovery: retained statuses, Last Will, devices by hand, log traffic, batched events.
import { afterEach, describe, expect, it } from 'vitest';
import { startDevice, startFleet } from '../../../device-runtime/src';
import { mosquittoMissingReason, startEmbeddedBroker, startLossyBroker, startMosquitto, type EmbeddedBroker } from '../../../testing/brokers';
import mqtt from 'mqtt';
import type { Batcher } from './batcher';
import { classifyTopic, createDeviceRegistry, discoveryFilters } from './discovery';
import { connectedEngine, tempDir, waitForDevices } from './test-support';
import type { Engine, LogEntry } from './types';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

const statusJson = (i: number) =>
  JSON.stringify({
    online: true, protocol: 1, runtime: { kind: 'test', version: '0' }, firmware: '1', mode: 'normal', bootReason: 'cold',
    uptime: i, freeMem: 1, time: Date.now(), capabilities: { maxChunk: 65536, commands: ['eval'] },
  });

async function broker(): Promise<EmbeddedBroker> {
  const b = await startEmbeddedBroker();
  cleanups.push(() => b.close());
  return b;
}
async function engineOn(url: string, depths?: number[]): Promise<Engine> {
  const e = await connectedEngine(url, { depths });
  cleanups.push(() => e.disconnect());
  return e;
}

describe('topics', () => {
  it('watches status, crash records, watchdog feeds and logs at each prefix depth', () => {
    expect(discoveryFilters({ depths: [1, 2] })).toEqual([
      '+/mqb/status', '+/mqb/crash', '+/mqb/cmd/eval/0F00D/#', '+/log',
      '+/+/mqb/status', '+/+/mqb/crash', '+/+/mqb/cmd/eval/0F00D/#', '+/+/log',
    ]);
    expect(discoveryFilters({ patterns: ['site/+/mqb/status'] })).toEqual(['site/+/mqb/status']);
  });

  it('tells the kind of message and the prefix from the topic alone', () => {
    expect(classifyTopic('a/b/mqb/status')).toEqual({ kind: 'status', prefix: 'a/b' });
    expect(classifyTopic('esp32/test/mqb/cmd/eval/0F00D/')).toEqual({ kind: 'watchdog', prefix: 'esp32/test' });
    expect(classifyTopic('esp32/test/log')).toEqual({ kind: 'log', prefix: 'esp32/test' });
    expect(classifyTopic('x/mqb/reply/err/Ab3x_9Qz')).toEqual({ kind: 'reply', prefix: 'x', reply: 'err', id: 'Ab3x_9Qz' });
    expect(classifyTopic('x/mqb/cmd/put/Ab3x_9Qz//lib/a.py')).toEqual({ kind: 'other' });
  });
});

describe.skipIf(mosquittoMissingReason)('discovery through a stock Mosquitto', () => { // skipped without Mosquitto: apt-get install mosquitto (CI installs it)
  it('finds 3,000 devices from retained statuses although Mosquitto queues at most 1,000 QoS 1 messages', async () => {
    const m = await startMosquitto();
    cleanups.push(() => m.stop());
    const pub = await mqtt.connectAsync(m.url, { protocolVersion: 4 });
    cleanups.push(() => pub.endAsync());
    const status = JSON.stringify({
      online: true, protocol: 1, runtime: { kind: 'test', version: '0' }, firmware: '1', mode: 'normal', bootReason: 'cold',
      uptime: 1, freeMem: 1, time: 0, capabilities: { maxChunk: 65536, commands: ['eval'] },
    });
    await Promise.all(Array.from({ length: 3000 }, (_, i) => pub.publishAsync(`big/${i}/mqb/status`, status, { qos: 1, retain: true })));
    const engine = await engineOn(m.url, [2]);
    await engine.settle();
    expect(engine.devices().filter((d) => d.presence === 'online')).toHaveLength(3000);
  });

  it('lists 20,000 retained statuses, more than the broker\'s socket buffer and queue hold', { timeout: 120_000 }, async () => {
    const m = await startMosquitto();
    cleanups.push(() => m.stop());
    const pub = await mqtt.connectAsync(m.url, { protocolVersion: 4 });
    cleanups.push(() => pub.endAsync());
    const N = 20_000;
    for (let i = 0; i < N; i += 500) {
      await Promise.all(Array.from({ length: Math.min(500, N - i) }, (_, k) => pub.publishAsync(`huge/${i + k}/mqb/status`, statusJson(i + k), { qos: 1, retain: true })));
    }
    const engine = await engineOn(m.url, [2]);
    expect(engine.discovery()).toMatchObject({ phase: 'listed', incomplete: false });
    expect(engine.devices().filter((d) => d.presence === 'online')).toHaveLength(N);
  });
});

describe('a device whose retained status the broker dropped', () => {
  it('is listed online once it is heard from (its log), its status read again from the broker', async () => {
    const b = await startLossyBroker();
    cleanups.push(() => b.close());
    const root = tempDir('dropped');
    cleanups.push(() => root.remove());
    const dev = await startDevice({ url: b.url, prefix: 'busy/dev', root: root.dir });
    cleanups.push(() => dev.stop());
    // The engine's copy of the retained status, and of any status refresh, is lost once each.
    const lost = new Set<string>();
    b.drop((m) => m.clientId.startsWith('mqboard-') && m.topic === 'busy/dev/mqb/status' && !lost.has(m.clientId) && lost.add(m.clientId) !== undefined);
    const engine = await engineOn(b.url, [2]);
    await engine.settle();
    expect(engine.device('busy/dev')?.presence).not.toBe('online');
    dev.log.logger('app').info('still here');
    const [d] = (await waitForDevices(engine, () => engine.device('busy/dev')?.presence === 'online')).filter((x) => x.prefix === 'busy/dev');
    expect(d).toMatchObject({ kind: 'mqboard', presence: 'online' });
    expect(b.dropped()).toBe(1);
  });
});

describe('statuses that arrive twice', () => {
  it('never let an older copy undo a newer status', async () => {
    const b = await broker();
    const engine = await engineOn(b.url, [2]);
    const pub = await mqtt.connectAsync(b.url, { protocolVersion: 4 });
    cleanups.push(() => pub.endAsync());
    const newer = { ...JSON.parse(statusJson(1)), time: 2_000 };
    const older = { ...JSON.parse(statusJson(1)), time: 1_000 };
    await pub.publishAsync('twice/dev/mqb/status', JSON.stringify(newer), { qos: 1 });
    await pub.publishAsync('twice/dev/mqb/status', JSON.stringify({ online: false, reason: 'lost' }), { qos: 1 });
    // A late copy of the status before the Last Will (the other subscription's copy).
    await pub.publishAsync('twice/dev/mqb/status', JSON.stringify(older), { qos: 1 });
    await engine.settle();
    expect(engine.device('twice/dev')?.presence).toBe('offline');
  });
});

describe('discovery', () => {
  it('finds all 50 devices of a fleet from their retained statuses', async () => {
    const b = await broker();
    const root = tempDir('fleet');
    cleanups.push(() => root.remove());
    const fleet = await startFleet({ url: b.url, prefix: 'site/fleet', root: root.dir, count: 50 });
    cleanups.push(() => fleet.stop());
    const engine = await engineOn(b.url);
    let events = 0;
    engine.on('devices', () => events++);
    const all = await waitForDevices(engine, (d) => d.filter((x) => x.presence === 'online').length === 50);
    expect(all.every((d) => d.kind === 'mqboard' && d.mode === 'normal' && d.prefix.startsWith('site/fleet/'))).toBe(true);
    // 50 retained statuses arrive within one batch or a few, not as 50 events.
    expect(events).toBeLessThan(50);
  });

  it('marks a device offline when the broker publishes its Last Will', async () => {
    const b = await broker();
    const root = tempDir('lwt');
    cleanups.push(() => root.remove());
    const dev = await startDevice({ url: b.url, prefix: 'lab/lwt', root: root.dir, keepaliveS: 1 });
    const engine = await engineOn(b.url);
    await waitForDevices(engine, () => engine.device('lab/lwt')?.presence === 'online');
    dev.kill();
    const [d] = (await waitForDevices(engine, () => engine.device('lab/lwt')?.presence === 'offline')).filter((x) => x.prefix === 'lab/lwt');
    expect(d).toMatchObject({ presence: 'offline', kind: 'mqboard' });
  });

  it('adds a device by hand at any depth, and forgets it', async () => {
    const b = await broker();
    const root = tempDir('manual');
    cleanups.push(() => root.remove());
    const dev = await startDevice({ url: b.url, prefix: 'deep/a/b/c/board', root: root.dir });
    cleanups.push(() => dev.stop());
    const engine = await engineOn(b.url);
    expect(engine.addDevice('deep/a/b/c/board')).toMatchObject({ source: 'manual', presence: 'unknown' });
    await waitForDevices(engine, () => engine.device('deep/a/b/c/board')?.presence === 'online');
    expect(engine.device('deep/a/b/c/board')).toMatchObject({ source: 'manual', kind: 'mqboard' });
    engine.forgetDevice('deep/a/b/c/board');
    expect(engine.device('deep/a/b/c/board')).toBeUndefined();
  });

  it('finds a board from log traffic and delivers its lines parsed, in batches', async () => {
    const b = await broker();
    const engine = await engineOn(b.url);
    const batches: LogEntry[][] = [];
    const got = new Promise<void>((resolve) => {
      engine.on('logs', (entries) => {
        batches.push(entries);
        if (batches.flat().length >= 200) resolve();
      });
    });
    const board = await mqtt.connectAsync(b.url, { protocolVersion: 4 });
    cleanups.push(() => board.endAsync());
    for (let i = 0; i < 200; i++) board.publish('home/porch/log', `I ${1000 + i}     main: line ${i}`, { qos: 1 });
    await got;
    const lines = batches.flat();
    expect(lines[0]).toMatchObject({ prefix: 'home/porch', line: { level: 'I', time: '1000', name: 'main', text: 'line 0' } });
    expect(lines.map((l) => l.line.text)).toEqual(Array.from({ length: 200 }, (_, i) => `line ${i}`));
    expect(batches.length).toBeLessThan(200);
    expect(engine.device('home/porch')).toMatchObject({ source: 'log', kind: 'unknown' });
  });

  it('ignores malformed status messages without failing', async () => {
    const b = await broker();
    const engine = await engineOn(b.url);
    const pub = await mqtt.connectAsync(b.url, { protocolVersion: 4 });
    cleanups.push(() => pub.endAsync());
    await pub.publishAsync('bad/one/mqb/status', '{"online": "yes"', { qos: 1, retain: true });
    await pub.publishAsync('bad/two/mqb/status', Buffer.from([0xff, 0xfe, 0x00]), { qos: 1, retain: true });
    await engine.settle();
    expect(engine.devices().filter((d) => d.prefix.startsWith('bad/'))).toEqual([]);
    expect(engine.connection().phase).toBe('connected');
  });
});

describe('crash counts', () => {
  it('keeps the count from crash records when a status does not count crashes', async () => {
    const b = await broker();
    const pub = await mqtt.connectAsync(b.url, { protocolVersion: 4 });
    cleanups.push(() => pub.endAsync());
    const record = (id: string) => ({ id, time: 1, bootCount: 1, mode: 'normal', reason: 'exception', message: 'boom', log: [] });
    await pub.publishAsync('cc/1/mqb/crash', JSON.stringify({ crashes: [record('a'), record('b')] }), { qos: 1, retain: true });
    const engine = await engineOn(b.url, [2]);
    await engine.settle();
    expect(engine.device('cc/1')?.crashCount).toBe(2);
    await pub.publishAsync('cc/1/mqb/status', JSON.stringify({
      online: true, protocol: 1, runtime: { kind: 'other', version: '0' }, firmware: '1', mode: 'normal', bootReason: 'cold',
      uptime: 1, freeMem: 1, time: 0, capabilities: { maxChunk: 1400, commands: ['eval'] },
    }), { qos: 1 });
    await engine.settle();
    expect(engine.device('cc/1')).toMatchObject({ presence: 'online', crashCount: 2 });
  });
});

describe('a board of ours that comes back running the original framework', () => {
  const noBatch: Batcher = { deviceChanged: () => undefined, deviceRemoved: () => undefined, log: () => undefined, crashes: () => undefined, flush: () => undefined, stop: () => undefined };
  const bytes = (s: string) => new TextEncoder().encode(s);
  const status = (over: object = {}) =>
    bytes(JSON.stringify({ online: true, protocol: 1, runtime: { kind: 'mqboard-micropython', version: '0.1.0' }, firmware: '1.0.0', mode: 'normal', bootReason: 'cold', bootCount: 3, uptime: 10, freeMem: 1, time: 1_000_000, capabilities: { maxChunk: 1400, commands: ['eval'] }, ...over }));
  const greeting = bytes('W 1200     main: MicroPython 1.24.0 (v1.24-mqboard on 2024-11-29); ESP32 module');

  it('is taken for an original board once offline and greeting as one, its runtime forgotten', () => {
    const r = createDeviceRegistry(noBatch, () => 5_000);
    r.onStatus('m/1', status());
    expect(r.get('m/1')).toMatchObject({ kind: 'mqboard', runtime: { kind: 'mqboard-micropython' } });
    r.onStatus('m/1', bytes(JSON.stringify({ online: false, reason: 'lost' })));
    r.onLog('m/1', greeting, false);
    const d = r.get('m/1')!;
    expect(d).toMatchObject({ kind: 'original', presence: 'online', firmware: 'v1.24-mqboard' });
    expect(d.runtime).toBeUndefined();
    expect(d.capabilities).toBeUndefined();
    expect(r.status('m/1')).toBeUndefined();
    // Running ours again: its status makes it ours again.
    r.onStatus('m/1', status({ bootCount: 4, time: 2_000_000 }));
    expect(r.get('m/1')).toMatchObject({ kind: 'mqboard', presence: 'online', bootCount: 4 });
  });

  it('keeps its own lines to itself while it is online', () => {
    const r = createDeviceRegistry(noBatch, () => 5_000);
    r.onStatus('m/2', status());
    r.onLog('m/2', greeting, false);
    expect(r.get('m/2')).toMatchObject({ kind: 'mqboard', firmware: '1.0.0' });
    r.onStatus('m/2', bytes(JSON.stringify({ online: false, reason: 'lost' })));
    r.onLog('m/2', bytes('W 1300 watchdog: Next reset: normal boot'), false);
    expect(r.get('m/2')).toMatchObject({ kind: 'mqboard', presence: 'offline' });
  });
});
