// A status said for a device over a one-off connection: it reaches the broker retained, and a
// broker that refuses or never answers is given up on, with nothing left behind to say it later.
import net from 'node:net';
import mqtt from 'mqtt';
import { afterEach, describe, expect, it } from 'vitest';
import { Status } from '../../protocol/src';
import { startEmbeddedBroker } from '../../testing/brokers';
import { sayStatusOnce } from './one-off-status';
import { offlineStatus } from './status';
import { waitForMessage } from './test-support/wait';

const cleanups: Array<() => Promise<unknown> | void> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

describe('a status said over a one-off connection', () => {
  it('is retained on the device status topic, sent with the device credentials', async () => {
    const auth = { username: 'board', password: 'pw-7' };
    const broker = await startEmbeddedBroker({ auth });
    cleanups.push(() => broker.close());
    await sayStatusOnce({ url: broker.url, prefix: 'once/said', ...auth }, offlineStatus('reset'));
    const later = await mqtt.connectAsync(broker.url, { protocolVersion: 4, ...auth });
    cleanups.push(() => later.endAsync());
    const s = Status.parse(JSON.parse(await waitForMessage(later, 'once/said/mqb/status', () => true)));
    expect(s).toMatchObject({ online: false, reason: 'reset' });
    await expect(sayStatusOnce({ url: broker.url, prefix: 'once/said', username: 'board', password: 'wrong' }, offlineStatus('shutdown'))).rejects.toThrow();
  });

  it('fails when the broker refuses the connection', async () => {
    const closed = net.createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const port = (closed.address() as net.AddressInfo).port;
    await new Promise<void>((r) => closed.close(() => r()));
    await expect(sayStatusOnce({ url: `mqtt://127.0.0.1:${port}`, prefix: 'once/refused' }, offlineStatus('reset'))).rejects.toThrow();
  });

  it('gives up on a broker that never answers, and closes its connection', async () => {
    // Takes the TCP connection and never says CONNACK.
    const sockets: net.Socket[] = [];
    let gone!: () => void;
    const hungUp = new Promise<void>((r) => (gone = r));
    const silent = net.createServer((s) => {
      sockets.push(s);
      s.resume(); // read (and drop) what comes, or its end would never be seen
      s.on('close', () => gone());
    });
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    cleanups.push(() => new Promise<void>((r) => silent.close(() => r())));
    cleanups.push(() => sockets.forEach((s) => s.destroy()));
    const port = (silent.address() as net.AddressInfo).port;
    await expect(sayStatusOnce({ url: `mqtt://127.0.0.1:${port}`, prefix: 'once/silent' }, offlineStatus('reset'), 300)).rejects.toThrow(
      'the broker did not take the status within 300 ms',
    );
    await hungUp;
  });
});
