// Both sides stream files as runs of 64 KiB QoS 1 publishes. For every one, mqtt.js (5.x,
// `MqttClient#_storeAndSend` in build/lib/client.js) deep-copies the whole packet, payload
// included, before putting it in its resend store: the copy only exists so MQTT 5 can strip a
// topic alias from the packet it sends while storing the full topic. For a 16 MB transfer that
// is 16 MB of short-lived external memory on the sender, and the garbage collections it sets
// off cost the sender more CPU than the publishing itself (measured with `npm run bench` and
// per-thread CPU times: ~17 of ~45 ms per 16 MB put on the engine, ~17 of ~45 ms per get on the
// device). This stores the packet itself instead, for MQTT 3.1.1 clients, which have no topic
// aliases. In exchange, a payload must not change until its publish has been acknowledged
// (PUBACK) or has failed for good; the transfer code's frame pools already reuse a frame only
// after its PUBACK.
import type { MqttClient } from 'mqtt';

/** The two private methods of mqtt.js's client this relies on; pinned by the tests. */
interface StoreAndSend {
  _storeAndSend(packet: { cmd: string }, cb: ((err?: Error) => void) | undefined, cbStorePut: () => void): void;
  _writePacket(packet: { cmd: string }, cb: ((err?: Error) => void) | undefined): void;
  outgoingStore: { put(packet: unknown, cb: (err?: Error) => void): unknown };
}

const hasInternals = (c: unknown): c is StoreAndSend =>
  typeof (c as Partial<StoreAndSend>)._storeAndSend === 'function' && typeof (c as Partial<StoreAndSend>)._writePacket === 'function';

/**
 * Makes `client` store its QoS 1/2 publishes without copying them. Returns whether it did: an
 * MQTT 5 client, or an mqtt.js whose internals changed, keeps the library's own behaviour.
 */
export function publishWithoutCopy(client: MqttClient): boolean {
  if ((client.options.protocolVersion ?? 4) >= 5 || !hasInternals(client)) return false;
  const c: StoreAndSend = client;
  const original = c._storeAndSend;
  c._storeAndSend = function (this: StoreAndSend, packet, cb, cbStorePut) {
    if (packet.cmd !== 'publish') return original.call(this, packet, cb, cbStorePut);
    this.outgoingStore.put(packet, (err) => {
      if (err) return cb?.(err);
      cbStorePut();
      this._writePacket(packet, cb);
    });
  };
  return true;
}
