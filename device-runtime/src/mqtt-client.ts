// The device's own broker connection, one per device like a real board.
import net from 'node:net';
import tls from 'node:tls';
import { MqttClient, type IClientOptions, type IStream } from 'mqtt';
import { publishWithoutCopy } from '../../protocol/src/publish-without-copy';

export interface BrokerOptions {
  /** mqtt://host[:port] or mqtts://host[:port] */
  url: string;
  username?: string;
  password?: string;
  /** PEM text of the CA bundle for mqtts. */
  ca?: string;
  clientId: string;
  keepaliveS?: number;
  reconnectPeriodMs?: number;
  /** Retained Last Will (the broker publishes it when the connection is lost). */
  will?: { topic: string; payload: Uint8Array };
  /** A clean session, for a one-off connection; default false (the device's persistent session). */
  clean?: boolean;
}

/**
 * Builds an mqtt.js v5 client whose socket has TCP_NODELAY set. mqtt.js's own tcp/tls stream
 * builders (node_modules/mqtt/build/lib/connect/tcp.js and tls.js) call `net.createConnection`
 * / `tls.connect` without `noDelay`, and `connect()` offers no option for it, so we pass our
 * own StreamBuilder to the exported `MqttClient` constructor (its signature is
 * `new MqttClient(streamBuilder, options)`, lib/client.d.ts). The builder is called again on
 * every reconnect, so each new socket gets NODELAY too. Without it every small request/ack
 * exchange waits ~40 ms for a delayed ACK (wire facts, "Measured").
 */
export function createMqttClient(o: BrokerOptions): MqttClient {
  const url = new URL(o.url);
  const secure = url.protocol === 'mqtts:' || url.protocol === 'tls:' || url.protocol === 'ssl:';
  if (!secure && url.protocol !== 'mqtt:' && url.protocol !== 'tcp:') {
    throw new Error(`unsupported broker URL scheme ${url.protocol} (use mqtt:// or mqtts://)`);
  }
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1') || 'localhost';
  const port = url.port ? Number(url.port) : secure ? 8883 : 1883;
  const username = o.username ?? (url.username ? decodeURIComponent(url.username) : undefined);
  const password = o.password ?? (url.password ? decodeURIComponent(url.password) : undefined);

  const streamBuilder = (): IStream => {
    if (secure) {
      const s = tls.connect({
        host,
        port,
        ca: o.ca,
        servername: net.isIP(host) ? undefined : host,
        rejectUnauthorized: true,
      });
      s.setNoDelay(true);
      return s;
    }
    return net.createConnection({ host, port, noDelay: true });
  };

  const options: IClientOptions = {
    protocolVersion: 4, // aedes speaks MQTT 3.1.1 only
    clientId: o.clientId,
    // A persistent session, as the original board keeps: commands sent while the device was
    // briefly away are delivered on reconnect, and a command that was in flight when the device
    // died comes back flagged dup (which the dispatcher ignores right after a boot).
    clean: o.clean ?? false,
    keepalive: o.keepaliveS ?? 30,
    reconnectPeriod: o.reconnectPeriodMs ?? 1000,
    connectTimeout: 10_000,
    resubscribe: true,
    ...(o.will ? { will: { topic: o.will.topic, payload: Buffer.from(o.will.payload), qos: 1, retain: true } } : {}),
  };
  if (username !== undefined) options.username = username;
  if (password !== undefined) options.password = password;
  const client = new MqttClient(streamBuilder, options);
  // Get chunks go out from pooled frames, lent (lendPayload) and stored without a copy.
  publishWithoutCopy(client);
  return client;
}

/** The same bytes as a Buffer: the same object when it is one (so a lent frame stays lent). */
export const asBuffer = (b: Uint8Array): Buffer => (Buffer.isBuffer(b) ? b : Buffer.from(b.buffer, b.byteOffset, b.byteLength));

/** Publishes at QoS 1 and resolves on PUBACK. */
export function publish(client: MqttClient, topic: string, payload: Uint8Array, retain = false): Promise<void> {
  return new Promise((resolve, reject) => {
    client.publish(topic, asBuffer(payload), { qos: 1, retain }, (err) => (err ? reject(err) : resolve()));
  });
}
