// Connecting: each way a connection can fail gets its own error code, so the user learns what to
// fix; a dropped connection comes back by itself.
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import mqtt from 'mqtt';
import { freePort, mosquittoMissingReason, startEmbeddedBroker, startMosquitto, startStallProxy, type Mosquitto } from '../../../testing/brokers';
import { startDevice } from '../../../device-runtime/src';
import { openConnection } from './connection';
import { createEngine } from './engine';
import { MAX_INBOUND_PACKET_BYTES } from './limits';
import { EngineError } from './errors';
import { tempDir } from './test-support';
import type { BrokerProfile, ConnectionState } from './types';

async function connectError(profile: BrokerProfile): Promise<EngineError> {
  const engine = createEngine();
  const e = await engine.connect(profile).then(
    () => undefined,
    (err: unknown) => err,
  );
  await engine.disconnect();
  expect(e).toBeInstanceOf(EngineError);
  expect(engine.connection().phase).toBe('closed');
  return e as EngineError;
}

describe('connection errors', () => {
  it('says refused when nothing listens on the port', async () => {
    const e = await connectError({ url: `mqtt://127.0.0.1:${await freePort()}` });
    expect(e.code).toBe('refused');
  });

  it('says dns when the host name does not resolve', async () => {
    const e = await connectError({ url: 'mqtt://no-such-broker.invalid:1883' });
    expect(e.code).toBe('dns');
  });

  it('says auth when the broker refuses the credentials, without echoing the password', async () => {
    const b = await startEmbeddedBroker({ auth: { username: 'ops', password: 'right' } });
    try {
      const e = await connectError({ url: b.url, username: 'ops', password: 'wrong-secret' });
      expect(e.code).toBe('auth');
      expect(e.message).not.toContain('wrong-secret');
      const ok = createEngine();
      await ok.connect({ url: b.url, username: 'ops', password: 'right' });
      expect(ok.connection().phase).toBe('connected');
      await ok.disconnect();
    } finally {
      await b.close();
    }
  });

  it('refuses a URL scheme it cannot speak', async () => {
    expect((await connectError({ url: 'http://127.0.0.1:1' })).code).toBe('invalid-argument');
  });
});

describe('transports', () => {
  it('speaks MQTT over WebSocket (ws://) as well as TCP', async () => {
    const b = await startEmbeddedBroker({ wsPort: 0 });
    const root = tempDir('ws');
    const dev = await startDevice({ url: b.url, prefix: 'ws/dev', root: root.dir });
    const engine = createEngine();
    try {
      await engine.connect({ url: `ws://127.0.0.1:${b.wsPort}`, discovery: { depths: [] } });
      expect(await engine.eval('ws/dev', '2 ** 10')).toBe('1024');
    } finally {
      await engine.disconnect();
      await dev.stop();
      await b.close();
      root.remove();
    }
  });
});

describe('reconnect', () => {
  it.skipIf(mosquittoMissingReason)('reconnects with backoff after the broker restarts, reporting each phase', async () => { // skipped without Mosquitto: apt-get install mosquitto (CI installs it)
    const m = await startMosquitto();
    const engine = createEngine();
    try {
      await engine.connect({ url: m.url, discovery: { depths: [] } });
      const phases: ConnectionState['phase'][] = [];
      const back = new Promise<void>((resolve) =>
        engine.on('connection', (s) => {
          phases.push(s.phase);
          if (s.phase === 'connected') resolve();
        }),
      );
      await m.restart();
      await back;
      expect(phases[0]).toBe('reconnecting');
      expect(phases.at(-1)).toBe('connected');
    } finally {
      await engine.disconnect();
      await m.stop();
    }
  });
});

describe('a first connection that fails', () => {
  const connected = (engine: ReturnType<typeof createEngine>) =>
    new Promise<void>((resolve) => {
      if (engine.connection().phase === 'connected') return resolve();
      const off = engine.on('connection', (s) => s.phase === 'connected' && (off(), resolve()));
    });

  it('is tried again with backoff when asked to keep trying, until the broker is there', async () => {
    const port = await freePort();
    const engine = createEngine();
    let broker: Awaited<ReturnType<typeof startEmbeddedBroker>> | undefined;
    try {
      const e = await engine.connect({ url: `mqtt://127.0.0.1:${port}`, discovery: { depths: [] } }, { keepTrying: true }).catch((err: unknown) => err);
      expect((e as EngineError).code).toBe('refused');
      const s = engine.connection();
      expect(s.phase).toBe('reconnecting');
      expect(s.error?.code).toBe('refused');
      expect(s.retryAt).toBeGreaterThan(Date.now() - 1);
      broker = await startEmbeddedBroker({ port });
      await connected(engine);
      // Connected for real: discovery works through it.
      await engine.settle();
    } finally {
      await engine.disconnect();
      await broker?.close();
    }
  });

  it('reports reconnecting between attempts, never closed', async () => {
    const engine = createEngine();
    const phases: string[] = [];
    engine.on('connection', (s) => phases.push(s.phase));
    try {
      await engine.connect({ url: `mqtt://127.0.0.1:${await freePort()}` }, { keepTrying: true }).catch(() => undefined);
      await expect.poll(() => phases.filter((p) => p === 'reconnecting').length, { timeout: 5000 }).toBeGreaterThanOrEqual(2);
      expect(phases).not.toContain('closed');
    } finally {
      await engine.disconnect();
    }
    expect(engine.connection().phase).toBe('closed');
  });

  it('says closed when disconnected while an attempt is still waiting for the broker', async () => {
    // Accepts the TCP connection and never answers CONNECT.
    const sockets: net.Socket[] = [];
    const silent = net.createServer((sock) => sockets.push(sock));
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    const engine = createEngine();
    try {
      const attempt = engine.connect({ url: `mqtt://127.0.0.1:${(silent.address() as net.AddressInfo).port}` }).catch(() => undefined);
      await expect.poll(() => sockets.length).toBe(1);
      expect(engine.connection().phase).toBe('connecting');
      await engine.disconnect();
      expect(engine.connection().phase).toBe('closed');
      for (const sock of sockets) sock.destroy();
      await attempt;
      expect(engine.connection().phase).toBe('closed');
    } finally {
      silent.close();
    }
  });

  it('is final without keepTrying, and after refused credentials even with it', async () => {
    const b = await startEmbeddedBroker({ auth: { username: 'ops', password: 'right' } });
    const engine = createEngine();
    try {
      await expect(engine.connect({ url: `mqtt://127.0.0.1:${await freePort()}` })).rejects.toMatchObject({ code: 'refused' });
      expect(engine.connection().phase).toBe('closed');
      await expect(engine.connect({ url: b.url, username: 'ops', password: 'wrong' }, { keepTrying: true })).rejects.toMatchObject({ code: 'auth' });
      expect(engine.connection().phase).toBe('closed');
    } finally {
      await engine.disconnect();
      await b.close();
    }
  });

  it('stops being tried once the engine disconnects or connects elsewhere', async () => {
    const port = await freePort();
    const other = await startEmbeddedBroker();
    const engine = createEngine();
    let late: Awaited<ReturnType<typeof startEmbeddedBroker>> | undefined;
    try {
      await engine.connect({ url: `mqtt://127.0.0.1:${port}` }, { keepTrying: true }).catch(() => undefined);
      await engine.disconnect();
      expect(engine.connection().phase).toBe('closed');
      await engine.connect({ url: `mqtt://127.0.0.1:${port}` }, { keepTrying: true }).catch(() => undefined);
      await engine.connect({ url: other.url, discovery: { depths: [] } });
      // The broker the first attempts aimed at comes up: the engine stays where it was sent.
      late = await startEmbeddedBroker({ port });
      const phases: string[] = [];
      engine.on('connection', (s) => phases.push(s.phase));
      await new Promise((r) => setTimeout(r, 1500));
      expect(phases).toEqual([]);
      expect(engine.connection()).toMatchObject({ phase: 'connected', url: other.url });
    } finally {
      await engine.disconnect();
      await other.close();
      await late?.close();
    }
  });
});

describe('after a broker restart', () => {
  it.skipIf(mosquittoMissingReason)('subscribes again and sees the device come back online', async () => { // skipped without Mosquitto: apt-get install mosquitto (CI installs it)
    const m = await startMosquitto();
    const root = tempDir('restart');
    const device = await startDevice({ url: m.url, prefix: 'rs/d1', root: root.dir, reconnectPeriodMs: 200 });
    const engine = createEngine();
    try {
      await engine.connect({ url: m.url, discovery: { depths: [2] } });
      await engine.settle();
      expect(engine.device('rs/d1')?.presence).toBe('online');
      const lost = new Promise<void>((resolve) => engine.on('devices', (ch) => ch.some((d) => d.presence !== 'online') && resolve()));
      const online = lost.then(
        () => new Promise<void>((resolve) => engine.on('devices', (ch) => ch.some((d) => d.prefix === 'rs/d1' && d.presence === 'online') && resolve())),
      );
      // Mosquitto runs without persistence here: the restart forgets sessions and retained messages.
      await m.restart();
      await online;
      expect(engine.device('rs/d1')?.presence).toBe('online');
      expect(await engine.eval('rs/d1', '6*7')).toBe('42');
    } finally {
      await engine.disconnect();
      await device.stop();
      await m.stop();
      root.remove();
    }
  });
});

describe.skipIf(mosquittoMissingReason)('TLS and passwords against Mosquitto', () => { // skipped without Mosquitto: apt-get install mosquitto (CI installs it)
  const dir = tempDir('tls');
  const f = (n: string) => path.join(dir.dir, n);
  const ssl = (...args: string[]) => execFileSync('openssl', args, { stdio: 'pipe' });
  let m: Mosquitto | undefined;
  afterAll(async () => {
    await m?.stop();
    dir.remove();
  });

  it('connects over mqtts with the CA and credentials; a wrong CA and a wrong password each say so', async () => {
    ssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', '/CN=Test CA', '-keyout', f('ca.key'), '-out', f('ca.pem'));
    ssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', '/CN=Other CA', '-keyout', f('other.key'), '-out', f('other.pem'));
    ssl('req', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=127.0.0.1', '-keyout', f('server.key'), '-out', f('server.csr'));
    writeFileSync(f('ext.cnf'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\n');
    ssl('x509', '-req', '-in', f('server.csr'), '-CA', f('ca.pem'), '-CAkey', f('ca.key'), '-CAcreateserial', '-days', '2', '-extfile', f('ext.cnf'), '-out', f('server.pem'));
    m = await startMosquitto({ tls: { cert: f('server.pem'), key: f('server.key') }, users: { ops: 'right' } });
    const url = `mqtts://127.0.0.1:${m.tlsPort}`;
    const { readFileSync } = await import('node:fs');
    const ca = readFileSync(f('ca.pem'), 'utf8');

    expect((await connectError({ url, ca: readFileSync(f('other.pem'), 'utf8'), username: 'ops', password: 'right' })).code).toBe('tls');
    expect((await connectError({ url, ca, username: 'ops', password: 'wrong' })).code).toBe('auth');
    const engine = createEngine();
    await engine.connect({ url, ca, username: 'ops', password: 'right', discovery: { depths: [] } });
    expect(engine.connection().phase).toBe('connected');
    await engine.disconnect();
  });
});

describe('shutting down', () => {
  it.skipIf(mosquittoMissingReason)('disconnects within a bound when the broker never answers a request in flight', async () => { // skipped without Mosquitto: apt-get install mosquitto (CI installs it)
    const m = await startMosquitto();
    const proxy = await startStallProxy(m.port);
    const engine = createEngine();
    try {
      await engine.connect({ url: proxy.url, discovery: { depths: [] } });
      // From here nothing the broker sends arrives: no SUBACK, no PUBACK.
      proxy.stall();
      const request = engine.reset('any/board', 'hard').catch(() => undefined);
      await engine.disconnect();
      expect(engine.connection().phase).toBe('closed');
      await request;
    } finally {
      await proxy.close();
      await m.stop();
    }
  });
});

describe('a lost connection', () => {
  it.skipIf(mosquittoMissingReason)('is reported once, naming the broker', async () => { // skipped without Mosquitto: apt-get install mosquitto (CI installs it)
    const m = await startMosquitto();
    const root = tempDir('lostmsg');
    const device = await startDevice({ url: m.url, prefix: 'lost/dev', root: root.dir });
    const engine = createEngine({ timeoutMs: 600_000 });
    try {
      await engine.connect({ url: m.url, discovery: { depths: [] } });
      const spy = await mqtt.connectAsync(m.url, { protocolVersion: 4, reconnectPeriod: 0 });
      const sent = new Promise<void>((resolve) => spy.on('message', () => resolve()));
      await spy.subscribeAsync('lost/dev/mqb/cmd/eval/+/#', { qos: 0 });
      const running = engine.eval('lost/dev', 'await new Promise((r) => setTimeout(r, 600000))').then(
        () => undefined,
        (err: unknown) => err as EngineError,
      );
      await sent;
      spy.end(true);
      await m.restart();
      const e = await running;
      expect(e?.code).toBe('disconnected');
      expect(e?.message).not.toMatch(/lost.*lost/);
      expect(e?.message).toContain(`127.0.0.1:${m.port}`);
    } finally {
      await engine.disconnect();
      await device.stop();
      await m.stop();
      root.remove();
    }
  });
});

describe.skipIf(mosquittoMissingReason)('oversized packets', () => { // skipped without Mosquitto: apt-get install mosquitto (CI installs it)
  it('on MQTT 5 the broker drops packets over our Maximum Packet Size; MQTT 3.1.1 still connects', async () => {
    const m = await startMosquitto();
    try {
      const seen: string[] = [];
      const c5 = await openConnection({ url: m.url, protocolVersion: 5 }, { onMessage: (msg) => seen.push(msg.topic), onState: () => undefined });
      await c5.subscribe(['huge/#'], 1);
      const pub = await mqtt.connectAsync(m.url, { protocolVersion: 4 });
      await pub.publishAsync('huge/big', Buffer.alloc(MAX_INBOUND_PACKET_BYTES + 1, 0x20), { qos: 1 });
      await pub.publishAsync('huge/small', '{}', { qos: 1 });
      await c5.barrier();
      expect(seen).toEqual(['huge/small']);
      await pub.endAsync();
      await c5.close();
      const engine = createEngine();
      await engine.connect({ url: m.url, protocolVersion: 4, discovery: { depths: [] } });
      expect(engine.connection().phase).toBe('connected');
      await engine.disconnect();
    } finally {
      await m.stop();
    }
  });
});
