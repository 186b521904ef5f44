// The embedded broker's door: with credentials it lets in only clients that present them, and
// `mqboard broker`'s options decide the credentials and whether to warn about an open broker.
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { brokerCredentials, exposureWarning, randomCredentials, startEmbeddedBroker, type EmbeddedBroker } from './embedded';

/** 'connected', or why the broker said no. */
const tryConnect = (url: string, auth: { username?: string; password?: string }) =>
  new Promise<string>((resolve) => {
    const c = mqtt.connect(url, { ...auth, protocolVersion: 4, reconnectPeriod: 0, connectTimeout: 5_000 });
    c.once('connect', () => {
      resolve('connected');
      c.end(true);
    });
    c.once('error', (e) => {
      resolve(e.message);
      c.end(true);
    });
  });

describe('embedded broker with credentials', () => {
  const creds = randomCredentials('test');
  let broker: EmbeddedBroker;
  beforeAll(async () => {
    broker = await startEmbeddedBroker({ port: 0, wsPort: 0, auth: creds });
  });
  afterAll(() => broker?.close());

  it('lets in a client with the right user name and password', async () => {
    expect(await tryConnect(broker.url, creds)).toBe('connected');
    expect(await tryConnect(`ws://${broker.host}:${broker.wsPort}`, creds)).toBe('connected');
  });

  it('refuses anonymous clients, a wrong password and a wrong user name, over TCP and WebSocket', async () => {
    for (const url of [broker.url, `ws://${broker.host}:${broker.wsPort}`]) {
      expect(await tryConnect(url, {})).toMatch(/Bad username or password/i);
      expect(await tryConnect(url, { username: creds.username, password: `${creds.password}x` })).toMatch(/Bad username or password/i);
      expect(await tryConnect(url, { username: `${creds.username}x`, password: creds.password })).toMatch(/Bad username or password/i);
      expect(await tryConnect(url, { username: creds.username })).toMatch(/Bad username or password/i);
    }
  });

  it('makes new credentials for every run', () => {
    const other = randomCredentials('test');
    expect(other.username).not.toBe(creds.username);
    expect(other.password).not.toBe(creds.password);
    expect(creds.password.length).toBeGreaterThanOrEqual(32);
  });
});

describe('mqboard broker credentials and exposure', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'mqb-broker-auth-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('reads the password from a file (its first line), a variable or the flag', () => {
    const file = path.join(dir, 'pw');
    writeFileSync(file, 's3cret\nignored\n');
    chmodSync(file, 0o600);
    expect(brokerCredentials({ user: 'u', passwordFile: file })).toEqual({ username: 'u', password: 's3cret' });
    expect(brokerCredentials({ user: 'u', env: { MQBOARD_BROKER_PASSWORD: 'fromenv' } })).toEqual({ username: 'u', password: 'fromenv' });
    expect(brokerCredentials({ user: 'u', password: 'flag', env: { MQBOARD_BROKER_PASSWORD: 'fromenv' } })).toEqual({ username: 'u', password: 'flag' });
    expect(brokerCredentials({ env: {} })).toBeUndefined();
  });

  it('refuses half a set of credentials, two passwords, and a missing or empty file', () => {
    expect(() => brokerCredentials({ user: 'u' })).toThrow(/needs a password/);
    expect(() => brokerCredentials({ password: 'p' })).toThrow(/needs --user/);
    expect(() => brokerCredentials({ user: 'u', password: 'p', passwordFile: 'x' })).toThrow(/not both/);
    expect(() => brokerCredentials({ user: 'u', passwordFile: path.join(dir, 'missing') })).toThrow(/cannot read password file/);
    const empty = path.join(dir, 'empty');
    writeFileSync(empty, '\n');
    expect(() => brokerCredentials({ user: 'u', passwordFile: empty })).toThrow(/is empty/);
  });

  it('warns about an open broker on any address but loopback', () => {
    for (const host of ['127.0.0.1', '127.1.2.3', 'localhost', '::1', '[::1]']) expect(exposureWarning(host, undefined)).toBeUndefined();
    for (const host of ['0.0.0.0', '::', '192.168.1.10', 'myhost.local']) expect(exposureWarning(host, undefined)).toMatch(/^WARNING: .*without credentials/);
    expect(exposureWarning('0.0.0.0', { username: 'u', password: 'p' })).toBeUndefined();
  });
});
