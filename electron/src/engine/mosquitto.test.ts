// Transfers through a stock Mosquitto (max_queued_messages 1000, which silently drops QoS 1
// messages beyond it): the end-to-end window must keep every chunk.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDevice, type DeviceHandle } from '../../../device-runtime/src';
import { mosquittoMissingReason, startMosquitto, type Mosquitto } from '../../../testing/brokers';
import { connectedEngine, sha256, tempDir } from './test-support';
import type { Engine } from './types';

const P = 'mosq/dev';

describe.skipIf(mosquittoMissingReason)('our runtime through Mosquitto', () => {
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
