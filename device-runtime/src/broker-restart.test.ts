// A real Mosquitto is stopped and restarted in the middle of a put and of an ota (fault
// injection): the transfer fails on the host side, the device keeps no corrupt file or
// slot, and a retry succeeds.
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { text } from '../../protocol/src';
import { mosquittoMissingReason, startMosquitto, type Mosquitto } from '../../testing/brokers';
import { createBundle, startSupervisedDevice, type SupervisedDevice } from './index';
import { chunked, connectHost, sha256, type TestHost } from './test-support/host';
import { tmpRoot } from './test-support/tmp-root';
import { waitForMessage } from './test-support/wait';

describe.skipIf(mosquittoMissingReason !== undefined)( // skipped without Mosquitto: apt-get install mosquitto (CI installs it)
  `transfers across a broker restart (Mosquitto${mosquittoMissingReason ? `, SKIPPED: ${mosquittoMissingReason}` : ''})`,
  () => {
    // Cleanup in afterAll, not in a finally: a test that times out never reaches its finally,
    // and the broker and the runtime process would outlive the run.
    let mosquitto: Mosquitto | undefined;
    let supervised: SupervisedDevice | undefined;
    const r = tmpRoot('restart');
    afterAll(async () => {
      await supervised?.stop();
      await mosquitto?.stop();
      r.cleanup();
    });

    it('a put and an ota cut by a broker restart fail, leave nothing corrupt, and a retry succeeds', async () => {
      const m = (mosquitto = await startMosquitto());
      fs.writeFileSync(path.join(r.dir, 'data.bin'), 'old');
      const dev = (supervised = await startSupervisedDevice({ url: m.url, prefix: 'rs/dev', root: r.dir, heartbeatMs: 100, reconnectPeriodMs: 100 }));
      await dev.booted(1);
      const interrupted = async (run: (h: TestHost) => Promise<unknown>) => {
        const h = await connectHost(m.url);
        await h.status('rs/dev', (s) => s.online);
        const firstAck = waitForMessage(h.client, 'rs/dev/mqb/reply/out/+', (p) => p.includes('SEQ 16'));
        const transfer = run(h).then(
          (x) => x,
          (e: unknown) => ({ ok: false, error: String(e) }),
        );
        await firstAck;
        await m.restart(100);
        h.client.end(true); // fails the host's in-flight publishes at once
        return transfer;
      };

      const data = randomBytes(600_000);
      const cut = (await interrupted((h) => h.put('rs/dev', '/data.bin', data, { verify: true }))) as { ok: boolean };
      expect(cut.ok).toBe(false);
      expect(fs.readFileSync(path.join(r.dir, 'data.bin'), 'utf8')).toBe('old');

      const image = await createBundle({ name: 'app', version: '3.1.4', modules: [] }, { 'blob.bin': randomBytes(600_000) });
      const otaCut = (await interrupted((h) => h.command('rs/dev', 'ota', sha256(image), chunked(image, 1400), { window: 16 }))) as { ok: boolean };
      expect(otaCut.ok).toBe(false);
      expect(fs.existsSync(path.join(r.dir, '.mqboard', 'ota', 'slot-b.bin'))).toBe(false);

      const h = await connectHost(m.url);
      try {
        await h.status('rs/dev', (s) => s.online);
        const put = await h.put('rs/dev', '/data.bin', data, { verify: true });
        expect(put.ok && text(put.data)).toBe('OK');
        expect(sha256(fs.readFileSync(path.join(r.dir, 'data.bin')))).toBe(sha256(data));
        const ota = await h.command('rs/dev', 'ota', sha256(image), chunked(image, 1400), { window: 16 });
        expect(ota.ok && text(ota.data)).toBe('OK');
        const s = await h.status('rs/dev', (x) => x.online && x.ota?.slots[1]?.version === '3.1.4');
        expect(s.online && s.ota?.active).toBe('a');
      } finally {
        await h.close();
      }
    });
  },
);
