import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { publishWithoutCopy } from '../../protocol/src/publish-without-copy';
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
  it('stores a QoS 1 payload for resend without copying it, and still delivers it, acknowledged', async () => {
    const pub = createMqttClient({ url: broker.url, clientId: 'pwc-device', will: { topic: 'pwc/will', payload: new Uint8Array() } });
    const sub = client();
    connected.push(sub.connect(), pub);
    await sub.subscribeAsync('pwc/t', { qos: 1 });
    const got = new Promise<Buffer>((resolve) => sub.once('message', (_t, p) => resolve(p)));
    const stored = storedPackets(pub);
    const payload = Buffer.from('sixty-four kibibytes, or a few bytes');
    await pub.publishAsync('pwc/t', payload, { qos: 1 });
    expect(stored).toHaveLength(1);
    expect(stored[0]!.payload).toBe(payload);
    expect((await got).equals(payload)).toBe(true);
  });

  it('leaves MQTT 5 clients to mqtt.js, which needs its copy for topic aliases', () => {
    const pub = client(5);
    expect(publishWithoutCopy(pub)).toBe(false);
  });

  it('still finds the mqtt.js internals it relies on (an upgrade that renames them fails here)', () => {
    expect(publishWithoutCopy(client())).toBe(true);
  });
});
