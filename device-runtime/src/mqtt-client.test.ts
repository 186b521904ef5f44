import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lendPayload, publishWithoutCopy } from '../../protocol/src/publish-without-copy';
import { startEmbeddedBroker, type EmbeddedBroker } from '../../testing/brokers';
import { createMqttClient } from './mqtt-client';

let broker: EmbeddedBroker;
/** Clients that connected, to end afterwards (one never connected cannot be ended). */
const connected: MqttClient[] = [];
beforeAll(async () => {
  broker = await startEmbeddedBroker();
});
afterAll(async () => {
  for (const c of connected) c.end(true);
  await broker.close();
});

/** A client, not yet connected. */
function client(protocolVersion: 4 | 5 = 4): MqttClient {
  return mqtt.connect(broker.url, { protocolVersion, manualConnect: true });
}

/** What mqtt.js put in its resend store for each publish. */
function storedPackets(c: MqttClient): { payload: unknown }[] {
  const stored: { payload: unknown }[] = [];
  const store = c.outgoingStore as unknown as { put(p: { payload: unknown }, cb: () => void): unknown };
  const put = store.put.bind(store);
  store.put = (p, cb) => {
    stored.push(p);
    return put(p, cb);
  };
  return stored;
}

describe('the device’s broker client', () => {
  it('stores a lent QoS 1 payload for resend as it is, copies any other, and delivers both', async () => {
    const pub = createMqttClient({ url: broker.url, clientId: 'pwc-device', will: { topic: 'pwc/will', payload: new Uint8Array() } });
    const sub = client();
    connected.push(sub.connect(), pub);
    await sub.subscribeAsync('pwc/t', { qos: 1 });
    const got: Buffer[] = [];
    sub.on('message', (_t, p) => got.push(p));
    const stored = storedPackets(pub);
    const frame = lendPayload(Buffer.from('a pooled frame, unchanged until its PUBACK'));
    const other = Buffer.from('anybody else’s buffer');
    await pub.publishAsync('pwc/t', frame, { qos: 1 });
    await pub.publishAsync('pwc/t', other, { qos: 1 });
    expect(stored).toHaveLength(2);
    expect(stored[0]!.payload).toBe(frame);
    expect(stored[1]!.payload).not.toBe(other);
    expect(stored[1]!.payload).toEqual(other);
    await expect.poll(() => got.map(String)).toEqual([String(frame), String(other)]);
  });

  it('leaves MQTT 5 clients to mqtt.js, which needs its copy for topic aliases', () => {
    const pub = client(5);
    expect(publishWithoutCopy(pub)).toBe(false);
  });

  it('still finds the mqtt.js internals it relies on (an upgrade that renames them fails here)', () => {
    expect(publishWithoutCopy(client())).toBe(true);
  });
});
