// Transfers through a stock Mosquitto (max_queued_messages 1000, which silently drops QoS 1
// messages beyond it): the end-to-end window must keep every chunk.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDevice, type DeviceHandle } from '../../../device-runtime/src';
import { mosquittoMissingReason, startMosquitto, type Mosquitto } from '../../../testing/brokers';
import { startProxy, type CuttableProxy } from '../../../device-runtime/src/test-support/proxy';
import { connectedEngine, sha256, tempDir } from './test-support';
import type { Engine } from './types';

const P = 'mosq/dev';

describe.skipIf(mosquittoMissingReason)('our runtime through Mosquitto', () => { // skipped without Mosquitto: apt-get install mosquitto (CI installs it)
  let m: Mosquitto;
  let device: DeviceHandle;
  let engine: Engine;
  const root = tempDir('mosq');

  beforeAll(async () => {
    m = await startMosquitto();
    device = await startDevice({ url: m.url, prefix: P, root: root.dir });
    engine = await connectedEngine(m.url, { depths: [] });
  });
  afterAll(async () => {
    await engine?.disconnect();
    await device?.stop();
    await m?.stop();
    root.remove();
  });

  for (const size of [0, 1, 1399, 1400, 1401]) {
    it(`round-trips ${size} bytes`, async () => {
      const data = randomBytes(size);
      await engine.put(P, `/rt${size}.bin`, data, { chunk: 1400 });
      expect(sha256(await engine.get(P, `/rt${size}.bin`, { chunk: 1400 }))).toBe(sha256(data));
    });
  }

  it('round-trips 1.5 MB at 1400-byte chunks (over 1000 messages each way)', async () => {
    const data = randomBytes(1_500_000);
    await engine.put(P, '/big1400.bin', data, { chunk: 1400 });
    expect(sha256(await engine.get(P, '/big1400.bin', { chunk: 1400 }))).toBe(sha256(data));
  });

  it('round-trips 1.5 MB at the advertised chunk size', async () => {
    const data = randomBytes(1_500_000);
    await engine.put(P, '/big.bin', data);
    expect(sha256(await engine.get(P, '/big.bin'))).toBe(sha256(data));
  });
});

if (mosquittoMissingReason) console.warn(mosquittoMissingReason);

describe.skipIf(mosquittoMissingReason)('a device that loses its connection in the middle of a transfer', () => { // skipped without Mosquitto: apt-get install mosquitto (CI installs it)
  let m: Mosquitto;
  let proxy: CuttableProxy;
  let device: DeviceHandle;
  let engine: Engine;
  const root = tempDir('drop');

  beforeAll(async () => {
    m = await startMosquitto();
    proxy = await startProxy(m.port);
    // The device reaches the broker through a proxy the test can cut; the host connects directly.
    device = await startDevice({ url: proxy.url, prefix: 'flaky/dev', root: root.dir, reconnectPeriodMs: 50 });
    engine = await connectedEngine(m.url, { depths: [] });
  });
  afterAll(async () => {
    await engine?.disconnect();
    await device?.stop();
    await proxy?.close();
    await m?.stop();
    root.remove();
  });

  it('completes a put and a get when the device drops and resumes its session midway', async () => {
    const data = randomBytes(1_500_000);
    let cut = false;
    const dropOnce = (done: number) => {
      if (!cut && done > data.length / 3) {
        cut = true;
        proxy.cut();
        proxy.restore();
      }
    };
    await engine.put('flaky/dev', '/f.bin', data, { chunk: 1400, onProgress: (p) => dropOnce(p.bytesDone) });
    expect(cut).toBe(true);
    cut = false;
    const back = await engine.get('flaky/dev', '/f.bin', { chunk: 1400, onProgress: (p) => dropOnce(p.bytesDone) });
    expect(cut).toBe(true);
    expect(sha256(back)).toBe(sha256(data));
  });
});
