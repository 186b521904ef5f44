// The Last Will of the MicroPython package, registered by its own MQTT client: a board that
// dies without a word is reported offline ("lost") by the broker. A file of its own: killing
// the device leaves its interpreter behind, and the WebAssembly port runs one per process.
import { afterAll, expect, it } from 'vitest';
import { startEmbeddedBroker, type EmbeddedBroker } from '../../testing/brokers';
// eslint-disable-next-line no-restricted-imports -- the package is tested against the host's own engine, as the app drives it
import { createEngine, type Engine } from '../../electron/src/engine';
import { tmpRoot } from '../src/test-support/tmp-root';
import { brokerAddress, startMicroPythonDevice } from '../src/micropython-wasm/device';

const P = 'mpy/will';
let broker: EmbeddedBroker | undefined;
let engine: Engine | undefined;
const root = tmpRoot('mpy-will');

afterAll(async () => {
  await engine?.disconnect();
  await broker?.close();
  root.cleanup();
});

const presence = (e: Engine, want: string) =>
  new Promise<void>((resolve) => {
    const check = () => {
      if (e.device(P)?.presence === want) {
        off();
        resolve();
      }
    };
    const off = e.on('devices', check);
    check();
  });

it('is published by the broker when the board dies without disconnecting', async () => {
  broker = await startEmbeddedBroker();
  engine = createEngine();
  await engine.connect({ url: broker.url, discovery: { depths: [2] } });
  const device = await startMicroPythonDevice({ ...brokerAddress(broker.url), prefix: P, root: root.dir });
  await presence(engine, 'online');
  await device.kill();
  await presence(engine, 'offline');
  expect(engine.device(P)?.offlineReason).toBe('lost');
});
