// A transfer the host stops sending in the middle (a crashed app, a lost link) must not leave
// its temp data behind: at its idle timeout the device drops it and later chunks are ignored.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { commandTopic, encodeFrame, utf8 } from '../../protocol/src';
import { startEmbeddedBroker, type EmbeddedBroker } from '../../testing/brokers';
import { startDevice, type DeviceHandle } from './index';
import { connectHost, type TestHost } from './test-support/host';
import { tmpRoot } from './test-support/tmp-root';

describe('interrupted transfers', () => {
  let broker: EmbeddedBroker;
  let host: TestHost;
  let device: DeviceHandle;
  const root = tmpRoot('idle');
  const tmp = path.join(root.dir, '.mqboard', 'tmp');

  beforeAll(async () => {
    broker = await startEmbeddedBroker();
    device = await startDevice({ url: broker.url, prefix: 'idle/dev', root: root.dir, transferIdleMs: 1_000 });
    host = await connectHost(broker.url);
  });
  afterAll(async () => {
    await host?.close();
    await device?.stop();
    await broker?.close();
    root.cleanup();
  });

  it('removes an interrupted put’s temp file at the idle timeout, and the real file never appears', async () => {
    // The first of several chunks, then nothing more.
    await host.client.publishAsync(commandTopic('idle/dev', 'put', 'Idle0001', '/big.bin'), Buffer.from(encodeFrame(0, false, utf8('x'.repeat(1000)))), { qos: 1 });
    await vi.waitFor(() => expect(fs.readdirSync(tmp)).toHaveLength(1), { timeout: 5_000 });
    await vi.waitFor(() => expect(fs.readdirSync(tmp)).toEqual([]), { timeout: 5_000 });
    expect(fs.existsSync(path.join(root.dir, 'big.bin'))).toBe(false);
    // The rest arriving late starts nothing and writes nothing.
    await host.client.publishAsync(commandTopic('idle/dev', 'put', 'Idle0001', '/big.bin'), Buffer.from(encodeFrame(1, true, utf8('y'))), { qos: 1 });
    const r = await host.put('idle/dev', '/after.txt', utf8('still serving'));
    expect(r.ok).toBe(true);
    expect(fs.readdirSync(tmp)).toEqual([]);
    expect(fs.existsSync(path.join(root.dir, 'big.bin'))).toBe(false);
  });
});
