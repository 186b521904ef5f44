// Commands whose device goes away under them: they fail as soon as the broker says so (its Last
// Will), with words that say what happened, never by running into their timeout. And a put whose
// final reply was lost is judged by the file the device has, not by the silence.
import { randomBytes } from 'node:crypto';
import mqtt from 'mqtt';
import { afterEach, describe, expect, it } from 'vitest';
import { startDevice, startSupervisedDevice, type DeviceHandle } from '../../../device-runtime/src';
import { decodeAck, decodeFrame } from '../../../protocol/src';
import { startEmbeddedBroker, startLossyBroker } from '../../../testing/brokers';
import { connectedEngine, engineFailure, killProcess, sha256, spawnDevice, tempDir, waitForDevices } from './test-support';
import type { Engine } from './types';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

/** Far beyond what any of these tests may take: a pass can never be a timeout in disguise. */
const LONG = 10 * 60_000;

/** `seen` resolves when the broker passes on a command of kind `cmd` to `prefix` (watchdog feeds aside). */
async function commandSpy(url: string, prefix: string, cmd: string): Promise<{ seen: Promise<void> }> {
  const spy = await mqtt.connectAsync(url, { protocolVersion: 4 });
  cleanups.push(() => spy.endAsync(true));
  const seen = new Promise<void>((resolve) => spy.on('message', (t) => !t.includes('/0F00D/') && resolve()));
  await spy.subscribeAsync(`${prefix}/mqb/cmd/${cmd}/#`, { qos: 0 });
  return { seen };
}

/** A device process without a supervisor: killing it is a power cut, and the broker says so. */
async function setup(prefix: string) {
  const broker = await startEmbeddedBroker();
  cleanups.push(() => broker.close());
  const root = tempDir('gone');
  cleanups.push(() => root.remove());
  const child = spawnDevice(broker.port, prefix, root.dir);
  cleanups.push(() => killProcess(child));
  const engine = await connectedEngine(broker.url, { depths: [2], timeoutMs: LONG });
  cleanups.push(() => engine.disconnect());
  await waitForDevices(engine, () => engine.device(prefix)?.presence === 'online');
  return { broker, child, engine };
}

describe('a device that goes offline during a command', () => {
  it('fails an eval in flight at once with "the device went offline"', async () => {
    const { broker, child, engine } = await setup('gone/eval');
    const { seen } = await commandSpy(broker.url, 'gone/eval', 'eval');
    const running = engine.eval('gone/eval', 'await new Promise((r) => setTimeout(r, 600000))', { timeoutMs: LONG });
    await seen;
    await killProcess(child);
    const e = await engineFailure(running);
    expect(e.message).toBe('eval on gone/eval: the device went offline');
    expect(e.code).toBe('device-error');
  });

  it('fails a put in flight at once with "the device went offline"', async () => {
    const { child, engine } = await setup('gone/put');
    let killed: Promise<void> | undefined;
    const e = await engineFailure(
      engine.put('gone/put', '/big.bin', randomBytes(8_000_000), {
        chunk: 1400,
        timeoutMs: LONG,
        onProgress: (p) => void (p.bytesDone > 0 && (killed ??= killProcess(child))),
      }),
    );
    await killed;
    expect(e.message).toBe('put on gone/put: the device went offline');
  });
});

describe('a device reset under a command', () => {
  it('fails an eval in flight with "the device reset" when its status says it reset or rebooted', async () => {
    const b = await startEmbeddedBroker();
    cleanups.push(() => b.close());
    const root = tempDir('softreset');
    cleanups.push(() => root.remove());
    const dev = await startDevice({ url: b.url, prefix: 'gone/soft', root: root.dir });
    cleanups.push(() => dev.stop());
    const engine = await connectedEngine(b.url, { depths: [2], timeoutMs: LONG });
    cleanups.push(() => engine.disconnect());
    await waitForDevices(engine, () => engine.device('gone/soft')?.presence === 'online');
    const board = await mqtt.connectAsync(b.url, { protocolVersion: 4 });
    cleanups.push(() => board.endAsync());
    const slow = 'await new Promise((r) => setTimeout(r, 3000))';

    // What the runtime publishes when it resets (reason reset), and a status of a new boot.
    let { seen } = await commandSpy(b.url, 'gone/soft', 'eval');
    let running = engine.eval('gone/soft', slow, { timeoutMs: LONG });
    await seen;
    await board.publishAsync('gone/soft/mqb/status', JSON.stringify({ online: false, reason: 'reset', time: Date.now() }), { qos: 1 });
    expect((await engineFailure(running)).message).toBe('eval on gone/soft: the device reset before it replied');

    await board.publishAsync('gone/soft/mqb/status', JSON.stringify({ ...dev.status(), bootCount: 1, time: Date.now() }), { qos: 1 });
    await waitForDevices(engine, () => engine.device('gone/soft')?.presence === 'online');
    ({ seen } = await commandSpy(b.url, 'gone/soft', 'eval'));
    running = engine.eval('gone/soft', slow, { timeoutMs: LONG });
    await seen;
    await board.publishAsync('gone/soft/mqb/status', JSON.stringify({ ...dev.status(), bootCount: 2, bootReason: 'watchdog', time: Date.now() }), { qos: 1 });
    expect((await engineFailure(running)).message).toBe('eval on gone/soft: the device reset (boot reason: watchdog) before it replied');
  });

  it('fails an eval that blocked the device in a promise callback once the supervisor resets it', { timeout: 60_000 }, async () => {
    const broker = await startEmbeddedBroker();
    cleanups.push(() => broker.close());
    const root = tempDir('block');
    cleanups.push(() => root.remove());
    // The supervisor calls a loop blocked after 2 s without a heartbeat (a board's default: 10 s).
    const dev = await startSupervisedDevice({ url: broker.url, prefix: 'gone/block', root: root.dir, heartbeatMs: 100, blockedMs: 2_000 });
    cleanups.push(() => dev.stop());
    const engine = await connectedEngine(broker.url, { depths: [2], timeoutMs: LONG });
    cleanups.push(() => engine.disconnect());
    await waitForDevices(engine, () => engine.device('gone/block')?.presence === 'online');
    const { seen } = await commandSpy(broker.url, 'gone/block', 'eval');
    // The loop runs after the script's own time limit has let go: only the supervisor sees it.
    const running = engine.eval('gone/block', 'await Promise.resolve().then(() => { for (;;) {} })', { timeoutMs: LONG });
    await seen;
    const e = await engineFailure(running);
    // The supervisor says the runtime reset before it boots the next one, however slowly that boots.
    expect(e.message).toBe('eval on gone/block: the device reset before it replied');
    expect(e.code).toBe('device-error');

    // What stays retained is the new boot saying it is online, not the reset before it.
    await waitForDevices(engine, () => engine.device('gone/block')?.presence === 'online');
    const later = await mqtt.connectAsync(broker.url, { protocolVersion: 4 });
    cleanups.push(() => later.endAsync());
    const retained = new Promise<Buffer>((resolve) => later.once('message', (_t, p) => resolve(p)));
    await later.subscribeAsync('gone/block/mqb/status', { qos: 1 });
    expect(JSON.parse((await retained).toString())).toMatchObject({ online: true, bootReason: 'crash' });
  });
});

describe('a put whose final reply is lost', () => {
  it('succeeds when the device has the file with the right hash', async () => {
    const broker = await startLossyBroker();
    cleanups.push(() => broker.close());
    const root = tempDir('lostreply');
    cleanups.push(() => root.remove());
    const device: DeviceHandle = await startDevice({ url: broker.url, prefix: 'lossy/put', root: root.dir });
    cleanups.push(() => device.stop());
    const engine: Engine = await connectedEngine(broker.url, { depths: [] });
    cleanups.push(() => engine.disconnect());
    // The put's last reply (not a `SEQ n` ack) never reaches the host.
    broker.drop((m) => {
      if (!m.topic.startsWith('lossy/put/mqb/reply/out/')) return false;
      const f = decodeFrame(m.payload);
      return f.ok && f.value.last && decodeAck(f.value.body) === undefined && !m.payload.includes('"sha256"');
    });
    const data = randomBytes(300_000);
    // The short timeout is how the host learns the reply is not coming; the hash check follows.
    await engine.put('lossy/put', '/kept.bin', data, { timeoutMs: 1_500 });
    expect(broker.dropped()).toBeGreaterThan(0);
    broker.drop(undefined);
    expect(sha256(await engine.get('lossy/put', '/kept.bin'))).toBe(sha256(data));
  });

  it('still fails when the device does not have the file', async () => {
    const broker = await startLossyBroker();
    cleanups.push(() => broker.close());
    const root = tempDir('lostput');
    cleanups.push(() => root.remove());
    const device = await startDevice({ url: broker.url, prefix: 'lossy/none', root: root.dir });
    cleanups.push(() => device.stop());
    const engine = await connectedEngine(broker.url, { depths: [] });
    cleanups.push(() => engine.disconnect());
    // The last chunk never reaches the device, so it never commits the file.
    broker.drop((m) => m.topic.startsWith('lossy/none/mqb/cmd/put/') && m.payload.length > 1 && (m.payload[0]! & 0x80) !== 0);
    const e = await engineFailure(engine.put('lossy/none', '/never.bin', randomBytes(10_000), { timeoutMs: 1_500 }));
    expect(e.code).toBe('timeout');
  });
});
