// Test connection against a real Mosquitto with a TLS listener and a password file:
// the right CA and credentials connect over mqtts; a wrong CA and a wrong password each fail
// with their own precise error. Certificates are generated here with openssl.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mosquittoMissingReason, startMosquitto, type Mosquitto } from '../../../testing/brokers';
import { testConnection } from './test-connection';

const openssl = (dir: string, ...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });

function makeCa(dir: string, name: string) {
  openssl(dir, 'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', `/CN=${name}`, '-keyout', `${name}.key`, '-out', `${name}.crt`);
}

function makeServerCert(dir: string, ca: string) {
  writeFileSync(path.join(dir, 'san.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\n');
  openssl(dir, 'req', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=127.0.0.1', '-keyout', 'server.key', '-out', 'server.csr');
  openssl(dir, 'x509', '-req', '-in', 'server.csr', '-CA', `${ca}.crt`, '-CAkey', `${ca}.key`, '-CAcreateserial', '-days', '2', '-extfile', 'san.ext', '-out', 'server.crt');
}

const never = new AbortController().signal;

describe.skipIf(mosquittoMissingReason !== undefined)('test connection over mqtts with Mosquitto', () => { // skipped without Mosquitto: apt-get install mosquitto (CI installs it)
  let dir: string;
  let broker: Mosquitto;
  let url: string;
  let ca: string;
  let otherCa: string;

  beforeAll(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'mqb-tls-'));
    makeCa(dir, 'ca');
    makeCa(dir, 'other-ca');
    makeServerCert(dir, 'ca');
    broker = await startMosquitto({
      tls: { cert: path.join(dir, 'server.crt'), key: path.join(dir, 'server.key') },
      users: { alice: 'correct horse' },
    });
    url = `mqtts://127.0.0.1:${broker.tlsPort}`;
    ca = readFileSync(path.join(dir, 'ca.crt'), 'utf8');
    otherCa = readFileSync(path.join(dir, 'other-ca.crt'), 'utf8');
  });

  afterAll(async () => {
    await broker?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('connects with the CA and the credentials', async () => {
    const r = await testConnection({ url, ca, username: 'alice', password: 'correct horse' }, never);
    expect(r).toMatchObject({ ok: true });
  });

  it('reports a certificate from an unknown CA as a TLS error', async () => {
    const r = await testConnection({ url, ca: otherCa, username: 'alice', password: 'correct horse' }, never);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.error.code).toBe('tls');
    expect(r.error.message).toMatch(/TLS failed.*(unknown CA|not signed by a trusted CA)/);
  });

  it('reports a wrong password as an auth error', async () => {
    const r = await testConnection({ url, ca, username: 'alice', password: 'wrong' }, never);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.error.code).toBe('auth');
    expect(r.error.message).toMatch(/refused the credentials/);
  });

  it('reports a closed port as refused', async () => {
    const r = await testConnection({ url: 'mqtts://127.0.0.1:1', ca }, never);
    expect(r).toMatchObject({ ok: false, error: { code: 'refused' } });
  });
});

describe('test connection without a broker', () => {
  it('reports a host name that does not resolve as a DNS error', async () => {
    // RFC 2606 reserves .invalid: it never resolves, online or offline.
    const r = await testConnection({ url: 'mqtt://no-such-broker.invalid:1883' }, never);
    expect(r).toMatchObject({ ok: false, error: { code: 'dns' } });
  });
});
