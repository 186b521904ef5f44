// startMicroPythonDevice: the MicroPython package on the real interpreter (WebAssembly port),
// as the demo fleet runs it, against a broker that takes only this run's credentials, driven
// by the host's real engine.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmbeddedBroker, type EmbeddedBroker } from '../../../testing/brokers';
// eslint-disable-next-line no-restricted-imports -- the board is checked through the host's own engine, as the app drives it
import { createEngine, type DeviceState, type Engine } from '../../../electron/src/engine';
// eslint-disable-next-line no-restricted-imports -- the demo broker's credentials, as the app makes them
import { randomCredentials } from '../../../electron/src/broker/embedded';
import { tmpRoot } from '../test-support/tmp-root';
import { startMicroPythonDevice, type MicroPythonDevice } from './device';

const P = 'lab/esp32-micropython';
const credentials = randomCredentials('mpy-test');
let broker: EmbeddedBroker;
let engine: Engine;
let device: MicroPythonDevice;
const root = tmpRoot('mpy-wasm');
const console: string[] = [];

function deviceState(pred: (d: DeviceState) => boolean): Promise<DeviceState> {
  return new Promise((resolve) => {
    const check = () => {
      const d = engine.device(P);
      if (d && pred(d)) {
        off();
        resolve(d);
      }
    };
    const off = engine.on('devices', check);
    check();
  });
}

beforeAll(async () => {
  broker = await startEmbeddedBroker({ auth: credentials });
  engine = createEngine();
  await engine.connect({ url: broker.url, ...credentials, discovery: { depths: [2] } });
  device = await startMicroPythonDevice({
    server: broker.host,
    port: broker.port,
    prefix: P,
    root: root.dir,
    ...credentials,
    // Fed every half second; the hardware watchdog bites 2 s (+ its margin) after the last feed.
    config: { tags: ['lab', 'micropython'], watchdog: { timeout: 2, allok: 1, revert: false } },
    echo: (l) => console.push(l),
  });
});

afterAll(async () => {
  await device?.stop();
  await engine?.disconnect();
  await broker?.close();
  root.cleanup();
});

describe('a MicroPython board in the WebAssembly port', () => {
  it('shows up in discovery as an MQBoard MicroPython device, through a broker that requires credentials', async () => {
    const d = await deviceState((s) => s.presence === 'online');
    expect(d.runtime).toEqual({ kind: 'mqboard-micropython', version: '0.1.0' });
    expect(d.firmware).toMatch(/^MicroPython 1\.\d+/);
    expect(d.capabilities?.terminal).toBe(true);
    // The config's tags, which fleet operations select devices by.
    expect(d.tags).toEqual(['lab', 'micropython']);
  });

  it('keeps the broker credentials out of its flash', async () => {
    expect(await engine.eval(P, 'open("/flash/config.json").read()')).not.toContain(credentials.password);
  });

  it('evaluates Python', async () => {
    expect(await engine.eval(P, 'sum(range(10))')).toBe('45');
  });

  it('runs a live REPL session', async () => {
    let out = '';
    let bytes = 0;
    const opened: { id?: string } = {};
    const info = await engine.terminals.open(P, { cols: 80, rows: 24 }, {
      onData(d, n) {
        out += d;
        bytes += n;
        if (opened.id) void engine.terminals.ack(opened.id, bytes);
      },
      onEnd() {},
    });
    opened.id = info.id;
    await expect.poll(() => out).toContain('>>> ');
    await engine.terminals.write(info.id, 'import sys\r');
    await engine.terminals.write(info.id, 'sys.platform\r');
    await expect.poll(() => out).toContain("'webassembly'\r\n>>> ");
    await engine.terminals.close(info.id);
  });

  it('is reset by its hardware watchdog when an evaluation never ends, and says so when it is back', async () => {
    const before = engine.device(P)!.bootCount ?? 0;
    await engine.put(P, '/before-the-loop.txt', Buffer.from('written before the reset'));
    // The reply never comes: the loop holds the board's only thread until the watchdog bites.
    void engine.eval(P, 'while True:\n    pass').catch(() => undefined);
    const down = await deviceState((s) => s.presence === 'offline');
    expect(down.offlineReason).toBe('lost');
    const back = await deviceState((s) => s.presence === 'online' && (s.bootCount ?? 0) > before);
    expect(back.bootReason).toBe('watchdog');
    await expect.poll(() => engine.crashes(P).at(-1)?.reason).toBe('watchdog');
    expect(device.boots.at(-1)).toBe('watchdog');
    expect(console).toContain('hardware watchdog: no feed, resetting');
    // Flash outlives the reset: what was written before it is still there, boot count included.
    expect(back.bootCount).toBe(before + 1);
    expect(Buffer.from(await engine.get(P, '/before-the-loop.txt')).toString()).toBe('written before the reset');
  });

  it('stops within its grace period even while stuck in a loop', async () => {
    const from = console.length;
    void engine.eval(P, 'while True:\n    pass').catch(() => undefined);
    // The board logs each command it starts (the watchdog's own feeds at debug level).
    await expect.poll(() => console.slice(from).some((l) => /main: eval (?!0F00D)/.test(l))).toBe(true);
    await device.stop();
    await deviceState((s) => s.presence === 'offline');
  });
});
