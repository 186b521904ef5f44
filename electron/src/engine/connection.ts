// One broker connection per engine (mqtt.js v5): socket set-up with TCP_NODELAY, connection
// state, reconnect with backoff, and a sync barrier through the broker.
import net from 'node:net';
import tls from 'node:tls';
import { randomBytes } from 'node:crypto';
import { Duplex } from 'node:stream';
import type { IClientOptions, IStream } from 'mqtt';
// The client alone: mqtt.js's index also loads every transport it knows (WebSocket, SOCKS,
// Alibaba, WeChat), which a CLI command pays for at every start while we build our own streams.
import * as clientModule from 'mqtt/lib/client';
import { publishWithoutCopy } from '../../../protocol/src/publish-without-copy';
import { redactUrl } from '../../../protocol/src';
import { classifyConnectError, EngineError } from './errors';
import { MAX_INBOUND_PACKET_BYTES } from './limits';
import type { BrokerProfile, ConnectionState } from './types';

export interface IncomingMessage {
  topic: string;
  payload: Buffer;
  retain: boolean;
}

export interface ConnectionHandlers {
  onMessage(msg: IncomingMessage): void;
  onState(state: ConnectionState): void;
}

export interface Connection {
  readonly clientId: string;
  state(): ConnectionState;
  /**
   * Subscribes and resolves on SUBACK; rejects if the broker refuses a filter. QoS 1 (default)
   * for command replies; QoS 0 for discovery, see engine.ts.
   */
  subscribe(filters: string[], qos?: 0 | 1): Promise<void>;
  unsubscribe(filters: string[]): Promise<void>;
  /** Publishes at QoS 1 (the protocol relies on it) and resolves on PUBACK. */
  publish(topic: string, payload: Uint8Array): Promise<void>;
  /**
   * Resolves once every message the broker queued for us before this call (e.g. retained
   * messages for a fresh subscription) has been delivered: we publish to a private topic and
   * wait for our own copy, which the broker queues behind them.
   */
  barrier(): Promise<void>;
  /**
   * A barrier, then a wait until no retained message has come for a moment. Some brokers
   * (aedes) stream a subscription's retained messages after its SUBACK, beside newer traffic,
   * so our own sync message can overtake them; Mosquitto queues them all first.
   */
  retainedSettled(): Promise<void>;
  /**
   * How many times the read-ahead buffer filled up so far: from each such moment on, a broker
   * may have dropped QoS 0 messages to us (see READ_AHEAD_BYTES).
   */
  readAheadFull(): number;
  close(): Promise<void>;
}

const BACKOFF_MIN_MS = 500;
const BACKOFF_MAX_MS = 30_000;

/** Delay before reconnect attempt `attempt` (0, 1, …): doubling from 0.5 s to 30 s, ±25 % jitter. */
export function backoffDelay(attempt: number): number {
  return Math.min(BACKOFF_MAX_MS, BACKOFF_MIN_MS * 2 ** attempt) * (0.75 + Math.random() * 0.5);
}
const CONNECT_TIMEOUT_MS = 10_000;
/**
 * A barrier whose sync message does not come (an ACL refused our private topic's publish, say)
 * gives up once nothing at all has arrived for this long: while messages still flow in, the
 * broker is still delivering what it queued before it.
 */
const BARRIER_FALLBACK_MS = 1_500;
/** retainedSettled: how long without a retained message counts as the end of a burst. */
const RETAINED_QUIET_MS = 400;
/**
 * How long close waits for the PUBACKs of publishes still in flight (then for the DISCONNECT to
 * go out) before it drops the socket. A loaded broker may never ack a publish it dropped; an
 * unbounded wait kept `mqboard devices` from ever exiting.
 */
export const CLOSE_GRACE_MS = 2_000;

interface Endpoint {
  protocol: 'mqtt' | 'mqtts' | 'ws' | 'wss';
  host: string;
  port: number;
  url: string;
}

export function parseBrokerUrl(url: string): Endpoint {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new EngineError('invalid-argument', `not a broker URL: ${redactUrl(url)}`);
  }
  const protocol = u.protocol.replace(/:$/, '');
  if (protocol !== 'mqtt' && protocol !== 'mqtts' && protocol !== 'ws' && protocol !== 'wss') {
    throw new EngineError('invalid-argument', `unsupported scheme ${u.protocol} (use mqtt, mqtts, ws or wss)`);
  }
  const defaults = { mqtt: 1883, mqtts: 8883, ws: 80, wss: 443 } as const;
  const host = u.hostname.replace(/^\[(.*)\]$/, '$1') || 'localhost';
  const port = u.port ? Number(u.port) : defaults[protocol];
  return { protocol, host, port, url };
}

/** Node imports a CommonJS module's `exports` as its default, so the class is `default.default` there. */
const MqttClient: typeof clientModule.default = (clientModule.default as unknown as { default?: typeof clientModule.default }).default ?? clientModule.default;
type MqttClient = InstanceType<typeof MqttClient>;

type Ws = typeof import('ws');

/**
 * Builds the byte stream mqtt.js runs over. We build it ourselves so every socket gets
 * TCP_NODELAY: the protocol is request/ack (eval round trips, SEQ acks every 8 chunks), and Nagle
 * plus the peer's delayed ACK stalls each such exchange ~40 ms (wire facts: eval 44 ms vs 1.4 ms).
 */
function streamBuilder(ep: Endpoint, profile: BrokerProfile, ws: Ws | undefined, onStreamError: (e: Error) => void, onReadAheadFull: () => void): () => IStream {
  return () => {
    let stream: Duplex;
    if (ep.protocol === 'mqtt') {
      stream = net.createConnection({ host: ep.host, port: ep.port, noDelay: true });
    } else if (ep.protocol === 'mqtts') {
      const socket = tls.connect({
        host: ep.host,
        port: ep.port,
        servername: net.isIP(ep.host) === 0 ? ep.host : undefined,
        ca: profile.ca,
        cert: profile.cert,
        key: profile.key,
        rejectUnauthorized: true,
      });
      socket.setNoDelay(true);
      stream = socket;
    } else {
      if (!ws) throw new Error('the WebSocket library is not loaded');
      // ws calls setNoDelay() on its socket itself once the upgrade completes.
      const u = new URL(ep.url);
      u.username = '';
      u.password = '';
      const socket = new ws.WebSocket(u.toString(), ['mqtt'], {
        ca: profile.ca,
        cert: profile.cert,
        key: profile.key,
        rejectUnauthorized: true,
        handshakeTimeout: CONNECT_TIMEOUT_MS,
      });
      stream = ws.createWebSocketStream(socket);
    }
    // mqtt.js only re-emits stream errors that carry a code; keep every one for the report.
    stream.on('error', onStreamError);
    return greedyReader(stream, READ_AHEAD_BYTES, onReadAheadFull);
  };
}

/**
 * Up to this many received bytes are read off the socket ahead of mqtt.js. mqtt.js reads only
 * as fast as it handles messages, so during a burst of retained statuses the broker's socket
 * buffer fills, then its per-client queue (1000 on a stock Mosquitto), and the broker drops the
 * rest: 20,000 retained statuses listed as 19,227. Reading ahead keeps the broker's side empty
 * while we work through the burst (50,000 statuses are ~20 MB).
 */
export const READ_AHEAD_BYTES = 64 * 1024 * 1024;

/**
 * Wraps a socket so that it is read as fast as the bytes come, up to `limit` bytes ahead of the
 * consumer. What arrives is handed on one chunk per event-loop turn (setImmediate), so handling
 * a chunk's messages never holds up reading the next: within the same process the socket is
 * drained at once while mqtt.js works through the backlog. Beyond `limit` it pauses (plain
 * backpressure) and calls `onFull`, because from then on a broker may drop messages meant for us.
 */
function greedyReader(inner: Duplex, limit: number, onFull: () => void): Duplex {
  const backlog: Buffer[] = [];
  let held = 0;
  let scheduled = false;
  let wanted = true;
  let ended = false;
  const handOn = () => {
    scheduled = false;
    const chunk = backlog.shift();
    if (chunk) {
      held -= chunk.length;
      if (inner.isPaused() && held < limit / 2) inner.resume();
      wanted = outer.push(chunk);
    }
    if (backlog.length && wanted) schedule();
    else if (!backlog.length && ended) outer.push(null);
  };
  const schedule = () => {
    if (scheduled) return;
    scheduled = true;
    setImmediate(handOn);
  };
  const outer = new Duplex({
    read() {
      wanted = true;
      if (backlog.length || ended) schedule();
    },
    write(chunk: Buffer, _enc, cb) {
      inner.write(chunk, cb);
    },
    final(cb) {
      inner.end(cb);
    },
    destroy(err, cb) {
      inner.destroy(err ?? undefined);
      cb(err);
    },
  });
  inner.on('data', (d: Buffer) => {
    backlog.push(d);
    held += d.length;
    if (held >= limit && !inner.isPaused()) {
      inner.pause();
      onFull();
    }
    if (wanted) schedule();
  });
  inner.on('end', () => {
    ended = true;
    schedule();
  });
  inner.on('error', (e) => outer.destroy(e));
  inner.on('close', () => {
    // Hand on what was read before the close; the consumer sees the close after it.
    if (backlog.length) setImmediate(() => outer.destroy());
    else outer.destroy();
  });
  return outer;
}

/**
 * Ends the client politely (in-flight PUBACKs, then DISCONNECT) if that completes within
 * `graceMs`, and otherwise tears the socket down: every shutdown path has a bound.
 */
async function endWithin(client: MqttClient, graceMs: number): Promise<void> {
  const inFlight = () => Object.keys(client.outgoing).length > 0;
  if (client.connected && inFlight()) {
    await new Promise<void>((resolve) => {
      const timer = setTimeout(done, graceMs);
      client.once('outgoingEmpty', done);
      function done() {
        clearTimeout(timer);
        client.off('outgoingEmpty', done);
        resolve();
      }
    });
  }
  // Forced when unacked publishes remain: mqtt.js would otherwise wait for them without end.
  const ended = client.endAsync(!client.connected || inFlight()).then(() => true, () => true);
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), graceMs)));
  const clean = await Promise.race([ended, timedOut]);
  clearTimeout(timer);
  if (!clean) client.stream?.destroy();
}

export async function openConnection(profile: BrokerProfile, handlers: ConnectionHandlers): Promise<Connection> {
  const ep = parseBrokerUrl(profile.url);
  const clientId = profile.clientId ?? `mqboard-${randomBytes(6).toString('base64url')}`;
  const syncTopic = `mqboard-host/${clientId.replace(/[+#/]/g, '_')}/sync`;
  let state: ConnectionState = { phase: 'connecting', url: redactUrl(profile.url), since: Date.now() };
  const setState = (s: Omit<ConnectionState, 'since' | 'url'>) => {
    state = { ...s, url: redactUrl(profile.url), since: Date.now() };
    handlers.onState(state);
  };
  handlers.onState(state);

  let lastError: Error | undefined;
  const options: IClientOptions = {
    protocolVersion: profile.protocolVersion ?? 4,
    clientId,
    username: profile.username,
    password: profile.password,
    keepalive: profile.keepalive ?? 30,
    clean: true,
    // We schedule reconnects ourselves to back off; mqtt.js would retry at a fixed period.
    reconnectPeriod: 0,
    connectTimeout: CONNECT_TIMEOUT_MS,
    resubscribe: true,
    manualConnect: true,
    // mqtt-packet would otherwise build a cache of all 65,536 two-byte numbers (65,536 Buffers)
    // before the first packet: the largest item in a CPU profile of `mqboard eval` (with the
    // garbage collection it causes), to save one 2-byte allocation per packet later. The
    // setting is mqtt-packet's, so it holds for every client in the process.
    writeCache: false,
    // MQTT 5 lets us tell the broker the largest packet we take: it then drops oversized ones
    // (a device's multi-megabyte "status") instead of sending them. 3.1.1 has no such field;
    // there the payload size checks before parsing (limits.ts) do the refusing.
    ...(profile.protocolVersion === 5 ? { properties: { maximumPacketSize: MAX_INBOUND_PACKET_BYTES } } : {}),
  };
  let readAheadFull = 0;
  let lastIncoming = 0;
  let lastRetained = 0;
  // Loaded only for a ws:// or wss:// broker (the stream builder itself must be synchronous).
  const ws = ep.protocol === 'ws' || ep.protocol === 'wss' ? await import('ws') : undefined;
  const client = new MqttClient(streamBuilder(ep, profile, ws, (e) => (lastError = e), () => readAheadFull++), options);
  // Put chunks go out from pooled frames, lent (lendPayload) and stored without a copy.
  publishWithoutCopy(client);
  client.on('error', (e) => (lastError = e));
  client.on('message', (topic, payload, packet) => {
    if (topic.startsWith(syncTopic)) {
      barrierArrived(topic);
      return;
    }
    lastIncoming = Date.now();
    if (packet.retain) lastRetained = lastIncoming;
    handlers.onMessage({ topic, payload, retain: packet.retain === true });
  });

  // First connection: resolve on CONNACK, reject with a classified error on the first failure.
  await new Promise<void>((resolve, reject) => {
    const onConnect = () => {
      client.off('close', onClose);
      resolve();
    };
    const onClose = () => {
      client.off('connect', onConnect);
      const err = classifyConnectError(lastError ?? new Error('connection closed before CONNACK'), profile.url);
      client.end(true);
      setState({ phase: 'closed', error: { code: err.code, message: err.message } });
      reject(err);
    };
    client.once('connect', onConnect);
    client.once('close', onClose);
    client.connect();
  });
  setState({ phase: 'connected' });

  // Every subscription we hold, to restore after a reconnect: with a clean session the broker
  // forgets them, and mqtt.js only remembers them for its own reconnects (reconnectPeriod > 0),
  // which we replace with backoff. Without this a broker restart leaves the engine deaf.
  const subscriptions = new Map<string, 0 | 1>();
  const resubscribe = () => {
    for (const qos of [0, 1] as const) {
      const filters = [...subscriptions].filter(([, q]) => q === qos).map(([f]) => f);
      if (filters.length) client.subscribe(filters, { qos }, (e) => e && (lastError = e));
    }
  };

  let closing = false;
  let attempt = 0;
  let retryTimer: NodeJS.Timeout | undefined;
  client.on('connect', () => {
    attempt = 0;
    lastError = undefined;
    resubscribe();
    setState({ phase: 'connected' });
  });
  client.on('close', () => {
    if (closing || retryTimer) return;
    const delay = backoffDelay(attempt);
    attempt++;
    const err = lastError ? classifyConnectError(lastError, profile.url) : new EngineError('disconnected', `connection to the broker ${redactUrl(profile.url)} lost`);
    setState({ phase: 'reconnecting', error: { code: err.code, message: err.message }, retryAt: Date.now() + delay });
    retryTimer = setTimeout(() => {
      retryTimer = undefined;
      if (closing) return;
      setState({ phase: 'connecting' });
      client.connect();
    }, delay);
  });

  let barrierSeq = 0;
  const barrierWaiters = new Map<string, () => void>();
  const barrierArrived = (topic: string) => {
    const w = barrierWaiters.get(topic);
    if (w) {
      barrierWaiters.delete(topic);
      w();
    }
  };
  subscriptions.set(`${syncTopic}/#`, 1);
  const barrierReady = client
    .subscribeAsync(`${syncTopic}/#`, { qos: 1 })
    .then((grants) => grants.every((g) => g.qos !== 128))
    .catch(() => false);

  const conn: Connection = {
    clientId,
    state: () => state,
    readAheadFull: () => readAheadFull,
    async subscribe(filters, qos = 1) {
      if (filters.length === 0) return;
      for (const f of filters) subscriptions.set(f, qos);
      const grants = await client.subscribeAsync(filters, { qos });
      const refused = grants.filter((g) => g.qos === 128).map((g) => g.topic);
      if (refused.length) throw new EngineError('auth', `broker refused subscription to ${refused.join(', ')}`);
    },
    async unsubscribe(filters) {
      for (const f of filters) subscriptions.delete(f);
      if (filters.length === 0 || !client.connected) return;
      await client.unsubscribeAsync(filters);
    },
    publish(topic, payload) {
      // The same object when it is a Buffer already, so a lent frame stays recognisably lent.
      const buf = Buffer.isBuffer(payload) ? payload : Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength);
      return new Promise((resolve, reject) => {
        client.publish(topic, buf, { qos: 1 }, (err) => {
          if (err) reject(new EngineError('disconnected', `publish to ${topic} failed: ${err.message}`, { cause: err }));
          else resolve();
        });
      });
    },
    async barrier() {
      if (!(await barrierReady)) {
        // The broker would not let us use our private topic (ACL): fall back to a short wait.
        await new Promise((r) => setTimeout(r, 200));
        return;
      }
      const topic = `${syncTopic}/${++barrierSeq}`;
      await new Promise<void>((resolve) => {
        let timer: NodeJS.Timeout;
        const fallback = () => {
          const idle = Date.now() - lastIncoming;
          if (idle < BARRIER_FALLBACK_MS) {
            timer = setTimeout(fallback, BARRIER_FALLBACK_MS - idle);
            return;
          }
          barrierWaiters.delete(topic);
          resolve();
        };
        timer = setTimeout(fallback, BARRIER_FALLBACK_MS);
        barrierWaiters.set(topic, () => {
          clearTimeout(timer);
          resolve();
        });
        client.publish(topic, Buffer.alloc(0), { qos: 1 });
      });
    },
    async retainedSettled() {
      await conn.barrier();
      for (;;) {
        const quiet = Date.now() - lastRetained;
        if (quiet >= RETAINED_QUIET_MS) return;
        await new Promise((r) => setTimeout(r, RETAINED_QUIET_MS - quiet));
      }
    },
    async close() {
      closing = true;
      if (retryTimer) clearTimeout(retryTimer);
      retryTimer = undefined;
      await endWithin(client, CLOSE_GRACE_MS);
      setState({ phase: 'closed' });
    },
  };
  return conn;
}
