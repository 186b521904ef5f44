// Measures the MicroPython package on the WebAssembly interpreter: heap in use after boot
// (gc.mem_alloc() after gc.collect(), once connected and idle), put and get of 1.5 MB, and the
// eval round trip, against an embedded aedes broker through the host engine.
//   npx tsx device-runtime/micropython/test-support/measure.ts
// The heap figure is the interpreter's own: the WebAssembly port is 32-bit like an ESP32, so
// objects have the same size. JS-side proxies may hold Python objects for a while after a
// transfer (until the worker's JS garbage collector runs), so the second figure is an upper bound.
import { randomBytes } from 'node:crypto';
import { startEmbeddedBroker } from '../../../testing/brokers';
// eslint-disable-next-line no-restricted-imports -- measured through the host's own engine, as the app drives it
import { createEngine } from '../../../electron/src/engine';
import { tmpRoot } from '../../src/test-support/tmp-root';
import { brokerAddress, startMicroPythonDevice } from '../../src/micropython-wasm/device';

const P = 'measure/mpy';
const HEAP = 'import gc\ngc.collect()\nprint(gc.mem_alloc(), end="")';

const broker = await startEmbeddedBroker();
const root = tmpRoot('mpy-measure');
const engine = createEngine();
await engine.connect({ url: broker.url, discovery: { depths: [2] } });
const device = await startMicroPythonDevice({ ...brokerAddress(broker.url), prefix: P, root: root.dir });
try {
  await new Promise<void>((resolve) => {
    const off = engine.on('devices', () => {
      if (engine.device(P)?.presence === 'online') {
        off();
        resolve();
      }
    });
  });
  const heap = async () => Number(await engine.eval(P, HEAP));
  console.log(`heap in use after boot: ${await heap()} bytes`);
  const data = randomBytes(1_500_000);
  let t = performance.now();
  await engine.put(P, '/big.bin', data);
  console.log(`put 1.5 MB: ${Math.round(performance.now() - t)} ms`);
  t = performance.now();
  await engine.get(P, '/big.bin');
  console.log(`get 1.5 MB: ${Math.round(performance.now() - t)} ms`);
  t = performance.now();
  for (let i = 0; i < 50; i++) await engine.eval(P, '1+1');
  console.log(`eval round trip: ${((performance.now() - t) / 50).toFixed(1)} ms`);
  console.log(`heap in use after the transfers: ${await heap()} bytes`);
} finally {
  await device.stop();
  await engine.disconnect();
  await broker.close();
  root.cleanup();
}
