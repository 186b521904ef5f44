// A device on a TLS listener with a private CA and user/password, as a deployment would run it
// (Mosquitto only: aedes here has no TLS listener). The host watches on the plain listener.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mosquittoMissingReason, startMosquitto, type Mosquitto } from '../../testing/brokers';
import { startDevice } from './index';
import { connectHost } from './test-support/host';
import { tmpRoot } from './test-support/tmp-root';

const openssl = spawnSync('openssl', ['version']).status === 0;
const skip = mosquittoMissingReason ?? (openssl ? undefined : 'openssl not installed');

/** A CA and a server certificate for 127.0.0.1, made with the openssl CLI. */
function makeCerts(dir: string): { ca: string; cert: string; key: string } {
  const run = (...args: string[]) => {
    const r = spawnSync('openssl', args, { cwd: dir, encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`openssl ${args[0]}: ${r.stderr}`);
  };
  run('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '2', '-subj', '/CN=mqboard test CA');
  run('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=127.0.0.1');
  fs.writeFileSync(path.join(dir, 'ext.cnf'), 'subjectAltName=IP:127.0.0.1\n');
  run('x509', '-req', '-in', 'server.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'server.pem', '-days', '2', '-extfile', 'ext.cnf');
  return { ca: path.join(dir, 'ca.pem'), cert: path.join(dir, 'server.pem'), key: path.join(dir, 'server.key') };
}

describe.skipIf(skip !== undefined)(`TLS and user/password${skip ? ` (SKIPPED: ${skip})` : ''}`, () => { // skipped without Mosquitto or openssl: apt-get install mosquitto openssl (CI installs both)
  let m: Mosquitto;
  const certDir = tmpRoot('certs');
  const root = tmpRoot('tls');
  let ca = '';

  beforeAll(async () => {
    const certs = makeCerts(certDir.dir);
    ca = fs.readFileSync(certs.ca, 'utf8');
    m = await startMosquitto({ tls: certs, users: { dev: 'secret-pw', host: 'host-pw' } });
  });
  afterAll(async () => {
    await m?.stop();
    certDir.cleanup();
    root.cleanup();
  });

  it('connects over mqtts with the CA and credentials, and answers commands', async () => {
    const dev = await startDevice({ url: `mqtts://127.0.0.1:${m.tlsPort}`, ca, username: 'dev', password: 'secret-pw', prefix: 'tls/dev', root: root.dir });
    const host = await connectHost(`mqtt://host:host-pw@127.0.0.1:${m.port}`);
    try {
      expect(await host.status('tls/dev', (s) => s.online)).toMatchObject({ online: true });
      const r = await host.eval('tls/dev', '6 * 7');
      expect(r.ok && Buffer.from(r.data).toString()).toBe('42');
      // The password never reaches the log.
      expect(dev.log.recent().join('\n')).not.toContain('secret-pw');
    } finally {
      await host.close();
      await dev.stop();
    }
  });

  it('refuses a broker whose certificate the CA did not sign, and says why in its log', async () => {
    let seen!: (line: string) => void;
    const brokerError = new Promise<string>((r) => (seen = r));
    const dev = await startDevice({
      url: `mqtts://127.0.0.1:${m.tlsPort}`,
      username: 'dev',
      password: 'secret-pw',
      prefix: 'tls/untrusted',
      root: root.dir,
      waitConnected: false,
      echo: (line) => line.includes('broker:') && seen(line),
    });
    try {
      expect(await brokerError).toMatch(/W .*broker: .*(self[- ]signed|unable to (get|verify)|certificate)/i);
    } finally {
      dev.kill();
    }
  });
});
