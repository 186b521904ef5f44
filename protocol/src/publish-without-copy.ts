// Both sides stream files as runs of 64 KiB QoS 1 publishes. For every one, mqtt.js (5.x,
// `MqttClient#_storeAndSend` in build/lib/client.js) deep-copies the whole packet, payload
// included, before putting it in its resend store: the copy only exists so MQTT 5 can strip a
// topic alias from the packet it sends while storing the full topic. For a 16 MB transfer that
// is 16 MB of short-lived external memory on the sender, and the garbage collections it sets
// off cost the sender more CPU than the publishing itself: per 16 MB at 64 KiB chunks, the
// garbage collector's threads spent ~23 ms on the engine's put and ~26 ms on the device's get,
// ~7 and ~9 ms without the copy (per-thread CPU times, 2 cores; wall time -20 %).
// This stores the packet itself instead, for MQTT 3.1.1 clients (no topic aliases), but only
// for payloads lent with `lendPayload`: their owner promises not to change them until the
// publish has been acknowledged (PUBACK) or has failed for good, which the transfer code's frame
// pools do anyway. Every other payload is copied as before, so no other caller has a contract
// to keep. Typed by shape rather than by importing mqtt.js: protocol/ imports no library. The
// device's client test (device-runtime/src/mqtt-client.test.ts) pins the internals it needs.

const lent = new WeakSet<object>();

/**
 * Marks `payload` as one its owner will not change until its publish is acknowledged or has
 * failed, so a client set up with `publishWithoutCopy` may keep it for resend as it is.
 */
export function lendPayload<T extends object>(payload: T): T {
  lent.add(payload);
  return payload;
}

interface Packet {
  cmd: string;
  payload?: object | string;
}

/** What this relies on inside mqtt.js's client. */
interface StoreAndSend {
  _storeAndSend(packet: Packet, cb: ((err?: Error) => void) | undefined, cbStorePut: () => void): void;
  _writePacket(packet: Packet, cb: ((err?: Error) => void) | undefined): void;
  outgoingStore: { put(packet: unknown, cb: (err?: Error) => void): unknown };
}

const hasInternals = (c: unknown): c is StoreAndSend =>
  typeof (c as Partial<StoreAndSend>)._storeAndSend === 'function' && typeof (c as Partial<StoreAndSend>)._writePacket === 'function';

/**
 * Makes `client` store lent QoS 1/2 payloads without copying them. Returns whether it did: an
 * MQTT 5 client, or an mqtt.js whose internals changed, keeps the library's own behaviour.
 */
export function publishWithoutCopy(client: { options: { protocolVersion?: number } }): boolean {
  if ((client.options.protocolVersion ?? 4) >= 5 || !hasInternals(client)) return false;
  const c: StoreAndSend = client;
  const original = c._storeAndSend;
  c._storeAndSend = function (this: StoreAndSend, packet, cb, cbStorePut) {
    const payload = packet.payload;
    if (packet.cmd !== 'publish' || typeof payload !== 'object' || !lent.has(payload)) return original.call(this, packet, cb, cbStorePut);
    this.outgoingStore.put(packet, (err) => {
      if (err) return cb?.(err);
      cbStorePut();
      this._writePacket(packet, cb);
    });
  };
  return true;
}
