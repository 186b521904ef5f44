// Fault injection with real processes: the runtime runs as the supervisor's child;
// the tests kill it, block it, starve its watchdog and crash it, and check what the device
// says afterwards on the wire and what it left on disk.
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CrashList, encodeSingle, Status, text, utf8, commandTopic } from '../../protocol/src';
import { startEmbeddedBroker, type EmbeddedBroker } from '../../testing/brokers';
import { createBundle, startSupervisedDevice, type SupervisedDevice } from './index';
import { chunked, connectHost, newId, sha256, type TestHost } from './test-support/host';
import { tmpRoot } from './test-support/tmp-root';
import { waitForMessage } from './test-support/wait';

const isStatus = (pred: (s: Status) => boolean) => (payload: string) => {
  const s = Status.safeParse(JSON.parse(payload));
  return s.success && pred(s.data);
};
const lastCrash = (payload: string) => CrashList.parse(JSON.parse(payload)).crashes.at(-1);
/**
 * How long a wait on the wire may take before it fails: a reset means starting a runtime process
 * again, which a machine busy with other test files can make take many seconds. Only a bound
 * for a failure; every wait ends at the message it waits for.
 */
const WIRE_MS = 45_000;
const onWire = (client: mqtt.MqttClient, topic: string, pred: (payload: string) => boolean) => waitForMessage(client, topic, pred, WIRE_MS);

describe('supervised runtime under faults', { timeout: 2 * WIRE_MS }, () => {
  let broker: EmbeddedBroker;
  let host: TestHost;
  const roots: Array<ReturnType<typeof tmpRoot>> = [];
  const devices: SupervisedDevice[] = [];
  const start = async (prefix: string, setup?: (root: string) => void, extra: { blockedMs?: number; evalTimeoutMs?: number } = {}) => {
    const r = tmpRoot('sup');
    roots.push(r);
    setup?.(r.dir);
    const d = await startSupervisedDevice({ url: broker.url, prefix, root: r.dir, heartbeatMs: 100, blockedMs: extra.blockedMs ?? 3000, moduleRetryMs: 20, ...extra });
    devices.push(d);
    await d.booted(1);
    await host.status(prefix, (s) => s.online, WIRE_MS);
    return { dev: d, root: r.dir };
  };

  beforeAll(async () => {
    broker = await startEmbeddedBroker();
    host = await connectHost(broker.url);
  });
  afterAll(async () => {
    await Promise.all(devices.map((d) => d.stop()));
    await host?.close();
    await broker?.close();
    roots.forEach((r) => r.cleanup());
  });

  it('kill -9 in the middle of a put: old file intact, no partial file, retry succeeds', async () => {
    const { dev, root } = await start('sup/kill', (r) => fs.writeFileSync(path.join(r, 'data.bin'), 'old'));
    const data = randomBytes(300_000);
    const frames = chunked(data, 1400);
    // Send the first half and wait for the device's ack of seq 64: it has written that far.
    const id = newId();
    const acked = onWire(host.client, `sup/kill/mqb/reply/out/${id}`, (p) => p.includes('SEQ 64'));
    for (const f of frames.slice(0, 100)) await host.client.publishAsync(commandTopic('sup/kill', 'put', id, '/data.bin'), Buffer.from(f), { qos: 1 });
    await acked;
    const crashed = onWire(host.client, 'sup/kill/mqb/status', isStatus((s) => s.online && s.bootReason === 'crash'));
    process.kill(dev.pid()!, 'SIGKILL');
    await crashed;
    expect(fs.readFileSync(path.join(root, 'data.bin'), 'utf8')).toBe('old');
    expect(fs.readdirSync(path.join(root, '.mqboard', 'tmp'))).toEqual([]);
    const crash = lastCrash(await onWire(host.client, 'sup/kill/mqb/crash', () => true));
    expect(crash).toMatchObject({ reason: 'signal', message: 'killed by SIGKILL' });
    const retry = await host.put('sup/kill', '/data.bin', data, { verify: true });
    expect(retry.ok && text(retry.data)).toBe('OK');
    expect(sha256(fs.readFileSync(path.join(root, 'data.bin')))).toBe(sha256(data));
  });

  it('resets a runtime whose event loop is blocked, and the crash record says why', async () => {
    const { dev } = await start('sup/block', undefined, { blockedMs: 1000 });
    const blocked = onWire(host.client, 'sup/block/mqb/crash', (p) => lastCrash(p)?.reason === 'blocked');
    // Like an application `while (true)`; eval's own timeout cannot see it because it starts
    // from a timer, after the eval has returned.
    await host.eval('sup/block', 'setTimeout(() => { for (;;) {} }, 10); "armed"');
    const crash = lastCrash(await blocked);
    expect(crash?.message).toMatch(/event loop blocked/);
    expect(crash?.log.some((l) => l.includes('eval')), JSON.stringify(crash?.log)).toBe(true);
    await dev.booted(2);
    const r = await host.eval('sup/block', '1 + 1');
    expect(r.ok && text(r.data)).toBe('2');
  });

  it('says a runtime it resets has reset before the next boot says it is online, which is what stays retained', async () => {
    const { dev } = await start('sup/said', undefined, { blockedMs: 1000 });
    const watcher = await mqtt.connectAsync(broker.url, { protocolVersion: 4 });
    const seen: Status[] = [];
    watcher.on('message', (_t, p) => seen.push(Status.parse(JSON.parse(p.toString()))));
    await watcher.subscribeAsync('sup/said/mqb/status', { qos: 1 });
    // Blocks before the reply can leave: nothing is waited for but the reset.
    const code = 'await Promise.resolve().then(() => { for (;;) {} })';
    await host.client.publishAsync(commandTopic('sup/said', 'eval', newId()), Buffer.from(encodeSingle(utf8(code))), { qos: 1 });
    const { bootCount } = await dev.booted(2);
    await host.status('sup/said', (s) => s.online && s.bootCount === bootCount, WIRE_MS);
    await watcher.endAsync();

    const said = seen.map((s) => (s.online ? `online #${s.bootCount}` : s.reason));
    const newBoot = said.indexOf(`online #${bootCount}`);
    expect(said.slice(0, newBoot), said.join(', ')).toContain('reset');
    expect(said.slice(newBoot).every((w) => w.startsWith('online')), said.join(', ')).toBe(true);
    const later = await mqtt.connectAsync(broker.url, { protocolVersion: 4 });
    const retained = Status.parse(JSON.parse(await onWire(later, 'sup/said/mqb/status', () => true)));
    await later.endAsync();
    expect(retained).toMatchObject({ online: true, bootCount });
  });

  it('stopped while it brings a reset runtime back, leaves shutdown retained, not reset', async () => {
    const { dev } = await start('sup/halt', undefined, { blockedMs: 1000 });
    const reset = onWire(host.client, 'sup/halt/mqb/status', isStatus((s) => !s.online && s.reason === 'reset'));
    const code = 'await Promise.resolve().then(() => { for (;;) {} })';
    await host.client.publishAsync(commandTopic('sup/halt', 'eval', newId()), Buffer.from(encodeSingle(utf8(code))), { qos: 1 });
    await reset;
    // Before or after the next runtime has started: either way the stop is the last word.
    await dev.stop();
    const later = await mqtt.connectAsync(broker.url, { protocolVersion: 4 });
    const retained = Status.parse(JSON.parse(await onWire(later, 'sup/halt/mqb/status', () => true)));
    await later.endAsync();
    expect(retained).toMatchObject({ online: false, reason: 'shutdown' });
  });

  it('resets when the watchdog is not fed through the broker', async () => {
    const { dev } = await start(
      'sup/wdt',
      (r) => fs.writeFileSync(path.join(r, 'config.json'), JSON.stringify({ watchdog: { timeoutS: 0.6, initialS: 1, allokS: 100 } })),
      { evalTimeoutMs: 60_000 },
    );
    const reset = onWire(host.client, 'sup/wdt/mqb/status', isStatus((s) => s.online && s.bootReason === 'watchdog'));
    // An eval that never finishes holds the command pipeline: the event loop runs, but the
    // device cannot be commanded, so the feeds stop coming back.
    await host.client.publishAsync(commandTopic('sup/wdt', 'eval', newId()), Buffer.from(encodeSingle(utf8('await new Promise(() => {})'))), { qos: 1 });
    await reset;
    const crash = lastCrash(await onWire(host.client, 'sup/wdt/mqb/crash', () => true));
    expect(crash).toMatchObject({ reason: 'watchdog' });
    await dev.booted(2);
  });

  it('records an uncaught exception of an application module with its stack', async () => {
    await start('sup/throw', (r) => {
      fs.mkdirSync(path.join(r, 'lib'));
      fs.writeFileSync(path.join(r, 'lib', 'late.mjs'), 'export function start(mqtt) { mqtt.onMessage((t) => { if (t.endsWith("/boom")) { console.warn("about to fail"); setTimeout(() => { throw new RangeError("late boom"); }); } }); mqtt.onInit(async () => { await mqtt.subscribe(mqtt.prefix + "/boom"); await mqtt.publish(mqtt.prefix + "/ready", "yes", { retain: true }); }); }\n');
      fs.writeFileSync(path.join(r, 'config.json'), JSON.stringify({ modules: ['late'] }));
    });
    const crashed = onWire(host.client, 'sup/throw/mqb/crash', (p) => lastCrash(p)?.reason === 'exception');
    await onWire(host.client, 'sup/throw/ready', (p) => p === 'yes'); // subscribed by now
    await host.client.publishAsync('sup/throw/boom', 'now', { qos: 1 });
    const crash = lastCrash(await crashed);
    expect(crash?.message).toBe('late boom');
    expect(crash?.stack).toMatch(/RangeError: late boom\n\s+at /);
    // The module's console output went into the device log, and so into the crash record.
    expect(crash?.log.some((l) => /^W \S+ +console: about to fail$/.test(l))).toBe(true);
    const s = await host.status('sup/throw', (x) => x.online && x.bootReason === 'crash', WIRE_MS);
    expect(s.online && s.crashes).toBe(1);
    const ls = await host.json('sup/throw', 'ls', '/crash');
    expect(ls.ok && (ls.value as { entries: unknown[] }).entries).toHaveLength(1);
  });

  it('rolls back an OTA image whose app crashes the runtime on start, and keeps the crash record', async () => {
    await start('sup/ota', (r) => fs.writeFileSync(path.join(r, 'config.json'), JSON.stringify({ watchdog: { timeoutS: 1, initialS: 2, allokS: 60 } })));
    // The app throws from a timer right after start: an uncaught exception that kills the runtime.
    const image = await createBundle({ name: 'bad', version: '6.6.6', modules: ['boom'] }, {
      'boom.mjs': 'export function start() { setTimeout(() => { throw new Error("bad release"); }, 20); }\n',
    });
    const r = await host.command('sup/ota', 'ota', sha256(image), chunked(image, 1400), { window: 16 });
    expect(r.ok && text(r.data)).toBe('OK');
    const rolledBack = onWire(host.client, 'sup/ota/mqb/status', isStatus((s) => s.online && s.bootReason === 'rollback'));
    await host.json('sup/ota', 'reset', '', { mode: 'soft' });
    const s = Status.parse(JSON.parse(await rolledBack));
    expect(s.online && s.ota).toEqual({ active: 'a', confirmed: true, slots: [{ name: 'a', version: null }, { name: 'b', version: '6.6.6' }] });
    const crash = lastCrash(await onWire(host.client, 'sup/ota/mqb/crash', () => true));
    expect(crash).toMatchObject({ reason: 'exception', message: 'bad release', mode: 'normal' });
  });

  it('stops cleanly (offline: shutdown) and a power cut leaves the Will (offline: lost)', async () => {
    const { dev } = await start('sup/stop');
    const down = onWire(host.client, 'sup/stop/mqb/status', isStatus((s) => !s.online && s.reason === 'shutdown'));
    await dev.stop();
    await down;
    const { dev: dev2 } = await start('sup/cut');
    const lost = onWire(host.client, 'sup/cut/mqb/status', isStatus((s) => !s.online && s.reason === 'lost'));
    await dev2.kill();
    await lost;
  });
});
