// The device runtime on the wire: a plain mqtt.js client plays the host and speaks the
// original MQBoard framing by hand, against aedes and (when installed) a real Mosquitto.
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeLogLine, encodeFrame, encodeSingle, logTopic, text, utf8 } from '../../protocol/src';
import { createBundle, startDevice, type DeviceHandle } from './index';
import { BROKERS, type TestBroker } from './test-support/brokers';
import { chunked, connectHost, sha256, type TestHost } from './test-support/host';
import { tmpRoot } from './test-support/tmp-root';

const errorOf = (r: { ok: boolean; error?: string }) => (r.ok ? '(no error)' : r.error);

for (const kind of BROKERS) {
  describe.skipIf(kind.skip !== undefined)(`device runtime over ${kind.name}`, () => { // the Mosquitto kind is skipped without Mosquitto: apt-get install mosquitto (CI installs it)
    let broker: TestBroker;
    let host: TestHost;
    let device: DeviceHandle;
    let root: ReturnType<typeof tmpRoot>;
    const prefix = 'test/dev1';
    const file = (p: string) => path.join(root.dir, p);

    beforeAll(async () => {
      broker = await kind.start();
      root = tmpRoot();
      device = await startDevice({ url: broker.url, prefix, root: root.dir, evalTimeoutMs: 500 });
      host = await connectHost(broker.url);
    });
    afterAll(async () => {
      await host?.close();
      await device?.stop();
      await broker?.stop();
      root?.cleanup();
    });

    describe('eval', () => {
      it('replies the inspected value of an expression', async () => {
        const r = await host.eval(prefix, '1 + 2');
        expect(r).toMatchObject({ ok: true });
        expect(r.ok && text(r.data)).toBe('3');
        const s = await host.eval(prefix, '"abc".toUpperCase()');
        expect(s.ok && text(s.data)).toBe("'ABC'");
      });

      it('runs statements and replies their console output, keeping state between evals', async () => {
        const r = await host.eval(prefix, 'let n = 6; for (let i = 0; i < 2; i++) console.log(n * (i + 1));');
        expect(r.ok && text(r.data)).toBe('6\n12\n');
        const again = await host.eval(prefix, 'n + 1');
        expect(again.ok && text(again.data)).toBe('7');
      });

      it('supports top-level await', async () => {
        const r = await host.eval(prefix, 'await new Promise((r) => setTimeout(() => r(42), 5))');
        expect(r.ok && text(r.data)).toBe('42');
      });

      it('sends exceptions with their stack as raw text on reply/err', async () => {
        const r = await host.eval(prefix, 'throw new TypeError("boom")');
        expect(errorOf(r)).toMatch(/^TypeError: boom\n\s+at /);
      });

      it('stops runaway code at the eval timeout and keeps serving', async () => {
        const r = await host.eval(prefix, 'while (true) {}');
        expect(errorOf(r)).toMatch(/timed out/i);
        const ok = await host.eval(prefix, '"still here"');
        expect(ok.ok && text(ok.data)).toBe("'still here'");
      });

      it('refuses a multi-message eval as the original does', async () => {
        const r = await host.command(prefix, 'eval', '', [encodeFrame(0, false, utf8('1'))]);
        expect(errorOf(r)).toBe('MQRepl protocol error eval: only single message supported');
      });
    });

    describe('put and get', () => {
      const sizes = [0, 1, 1399, 1400, 1401, 1_500_000];
      for (const size of sizes) {
        it(`round-trips ${size} random bytes the original way (1400-byte put, plain get)`, async () => {
          const data = randomBytes(size);
          const put = await host.put(prefix, `/orig-${size}.bin`, data);
          expect(put.ok && text(put.data)).toBe('OK');
          expect(sha256(fs.readFileSync(file(`orig-${size}.bin`)))).toBe(sha256(data));
          const got = await host.get(prefix, `/orig-${size}.bin`);
          expect(got.ok && sha256(got.data)).toBe(sha256(data));
        });
        it(`round-trips ${size} random bytes verified, with big chunks and a get window`, async () => {
          const data = randomBytes(size);
          const put = await host.put(prefix, `/ext-${size}.bin`, data, { chunk: 65536, verify: true });
          expect(put.ok && text(put.data)).toBe('OK');
          const got = await host.get(prefix, `/ext-${size}.bin`, { window: 4, chunk: 16384 });
          expect(got.ok && sha256(got.data)).toBe(sha256(data));
        });
      }

      it('acks every 8th put chunk with SEQ n, so the original CLI flow control (>100 KB, window 16) completes', async () => {
        const data = randomBytes(150_000); // 108 chunks of 1400
        const r = await host.put(prefix, '/flow.bin', data, { window: 16 });
        expect(r.ok && text(r.data)).toBe('OK');
        expect(r.ok && r.acks).toEqual([0, 8, 16, 24, 32, 40, 48, 56, 64, 72, 80, 88, 96, 104]);
      });

      it('keeps the old file when the expected SHA-256 is wrong, and leaves no temp file', async () => {
        fs.writeFileSync(file('keep.txt'), 'old content');
        const r = await host.put(prefix, '/keep.txt', utf8('new content'), { verify: true, sha256: 'f'.repeat(64) });
        expect(errorOf(r)).toMatch(/SHA256 mismatch/);
        expect(fs.readFileSync(file('keep.txt'), 'utf8')).toBe('old content');
        expect(fs.readdirSync(file('.mqboard/tmp'))).toEqual([]);
      });

      it('takes the expected SHA-256 from the last message’s tail, so a host can hash while it sends', async () => {
        const data = randomBytes(5000);
        const r = await host.put(prefix, '/late.bin', data, { verify: true, shaOn: 'last' });
        expect(r.ok && text(r.data)).toBe('OK');
        expect(sha256(fs.readFileSync(file('late.bin')))).toBe(sha256(data));
      });

      it('keeps the old file when the SHA-256 on the last message’s tail is wrong', async () => {
        fs.writeFileSync(file('late-keep.txt'), 'old content');
        const r = await host.put(prefix, '/late-keep.txt', randomBytes(5000), { verify: true, shaOn: 'last', sha256: 'e'.repeat(64) });
        expect(errorOf(r)).toMatch(/SHA256 mismatch/);
        expect(fs.readFileSync(file('late-keep.txt'), 'utf8')).toBe('old content');
        expect(fs.readdirSync(file('.mqboard/tmp'))).toEqual([]);
      });

      it('refuses a put whose last message names another file, and writes neither', async () => {
        const data = randomBytes(3000);
        const r = await host.command(prefix, 'put', '/one.bin', chunked(data, 1400), { lastTail: '/other.bin' });
        expect(errorOf(r)).toMatch(/names another path/);
        expect(fs.existsSync(file('one.bin'))).toBe(false);
        expect(fs.existsSync(file('other.bin'))).toBe(false);
      });

      it('keeps the old file when the announced size is wrong', async () => {
        fs.writeFileSync(file('size.txt'), 'old');
        const r = await host.put(prefix, '/size.txt?size=99', utf8('new'));
        expect(errorOf(r)).toMatch(/size mismatch/);
        expect(fs.readFileSync(file('size.txt'), 'utf8')).toBe('old');
      });

      it('ignores a duplicate chunk', async () => {
        const data = randomBytes(3000);
        const f = chunked(data, 1000);
        const r = await host.command(prefix, 'put', '/dup.bin', [f[0]!, f[1]!, f[1]!, f[0]!, f[2]!]);
        expect(r.ok && text(r.data)).toBe('OK');
        expect(sha256(fs.readFileSync(file('dup.bin')))).toBe(sha256(data));
      });

      it('reports a gap as a protocol error and leaves the old file alone', async () => {
        fs.writeFileSync(file('gap.bin'), 'before');
        const f = chunked(randomBytes(3000), 1000);
        const r = await host.command(prefix, 'put', '/gap.bin', [f[0]!, f[2]!]);
        expect(errorOf(r)).toBe('MQRepl protocol error put: message missing: 2 vs. 1');
        expect(fs.readFileSync(file('gap.bin'), 'utf8')).toBe('before');
        expect(fs.readdirSync(file('.mqboard/tmp'))).toEqual([]);
      });

      it('refuses a chunk that does not follow a first message', async () => {
        const r = await host.command(prefix, 'put', '/nofirst.bin', [encodeFrame(3, true, utf8('x'))]);
        expect(errorOf(r)).toBe('MQRepl protocol error put: missing first message');
      });

      it('answers get of a missing file with an error that names only the device path', async () => {
        const r = await host.get(prefix, '/nope.txt');
        expect(errorOf(r)).toBe('ENOENT: no such file or directory: /nope.txt');
      });

      it('never runs more than `window` chunks ahead of the host acks on get', async () => {
        fs.writeFileSync(file('window.bin'), randomBytes(40 * 100));
        const seen: number[] = [];
        // window 2 and no acks at all: seq 0 and 1 may come, then the device must wait (and give up).
        const r = await host.command(prefix, 'get', '/window.bin', [encodeFrame(0, true, utf8('{"window":2,"chunk":100}'))], {
          timeoutMs: 400,
          onFrame: (seq) => seen.push(seq),
        });
        expect(errorOf(r)).toMatch(/timeout/);
        expect(seen).toEqual([0, 1]);
      });
    });

    describe('ota', () => {
      it('writes a verified app bundle to the inactive slot and boots it on reset', async () => {
        const image = await createBundle({ name: 'demo', version: '2.0.0', modules: [] }, { 'filler.bin': randomBytes(200_000) });
        const r = await host.command(prefix, 'ota', sha256(image), chunked(image, 1400), { window: 16 });
        expect(errorOf(r)).toBe('(no error)');
        expect(r.ok && text(r.data)).toBe('OK');
        expect(r.ok && r.acks.length).toBeGreaterThan(10);
        expect(sha256(fs.readFileSync(file('.mqboard/ota/slot-b.bin')))).toBe(sha256(image));
        const before = device.status();
        expect(before.ota).toMatchObject({ active: 'a', slots: [{ name: 'a', version: null }, { name: 'b', version: '2.0.0' }] });
        const online = host.status(prefix, (s) => s.online && s.bootReason === 'ota');
        const reset = await host.json(prefix, 'reset', '', { mode: 'soft' });
        expect(reset).toEqual({ ok: true, value: { ok: true, path: '' } });
        const s = await online;
        expect(s.online && s.ota).toMatchObject({ active: 'b', confirmed: false });
        expect(s.online && s.firmware).toBe('2.0.0');
      });

      it('refuses an image with the wrong SHA-256 and leaves the slots untouched', async () => {
        const state = fs.readFileSync(file('.mqboard/ota/state.json'), 'utf8');
        const slotA = fs.existsSync(file('.mqboard/ota/slot-a.bin'));
        const image = randomBytes(5000);
        const r = await host.command(prefix, 'ota', 'a'.repeat(64), chunked(image, 1400));
        expect(errorOf(r)).toMatch(/^MQRepl protocol error ota: SHA mismatch calc:[0-9a-f]{64} check=a{64}$/);
        expect(fs.readFileSync(file('.mqboard/ota/state.json'), 'utf8')).toBe(state);
        expect(fs.existsSync(file('.mqboard/ota/slot-a.bin'))).toBe(slotA);
        expect(fs.readdirSync(file('.mqboard/tmp'))).toEqual([]);
      });

      it('refuses an image that is not an app bundle, leaving the slots untouched', async () => {
        const state = fs.readFileSync(file('.mqboard/ota/state.json'), 'utf8');
        const image = randomBytes(5000);
        const r = await host.command(prefix, 'ota', sha256(image), chunked(image, 1400));
        expect(errorOf(r)).toMatch(/not an app bundle/);
        expect(fs.readFileSync(file('.mqboard/ota/state.json'), 'utf8')).toBe(state);
        expect(fs.readdirSync(file('.mqboard/ota')).sort()).toEqual(['slot-b.bin', 'slot-b.d', 'state.json']);
      });
    });

    describe('root jail', () => {
      let outside: ReturnType<typeof tmpRoot>;
      beforeAll(() => {
        outside = tmpRoot('outside');
        fs.writeFileSync(path.join(outside.dir, 'secret.txt'), 'secret');
        fs.symlinkSync(outside.dir, file('link-out'));
      });
      afterAll(() => outside.cleanup());

      it('refuses `..`, symlinks leading out, and the private state, touching nothing', async () => {
        const before = fs.readdirSync(outside.dir).sort();
        const attempts = [
          await host.put(prefix, '/../escape.txt', utf8('x')),
          await host.put(prefix, '../../escape.txt', utf8('x')),
          await host.put(prefix, '/link-out/escape.txt', utf8('x')),
          await host.get(prefix, '/link-out/secret.txt'),
          await host.get(prefix, `/../${path.basename(outside.dir)}/secret.txt`),
          await host.get(prefix, '/.mqboard/ota/state.json'),
          await host.put(prefix, '/.MQBOARD/ota/state.json', utf8('{}')),
          await host.json(prefix, 'rm', '/link-out', { recursive: true }),
          await host.json(prefix, 'ls', '/.mqboard'),
          await host.json(prefix, 'mv', '/keep.txt', { to: '/link-out/stolen.txt' }),
        ];
        for (const a of attempts) expect(errorOf(a)).toMatch(/escapes the device root|reserved for the runtime/);
        expect(fs.readdirSync(outside.dir).sort()).toEqual(before);
        expect(fs.readFileSync(path.join(outside.dir, 'secret.txt'), 'utf8')).toBe('secret');
        expect(fs.existsSync(file('keep.txt'))).toBe(true);
      });

      it('refuses to read a file hard-linked from outside the root, by get or sha', async () => {
        // The link only shares a filesystem with the root when both are in the same tmp dir.
        fs.linkSync(path.join(outside.dir, 'secret.txt'), file('hard.txt'));
        expect(fs.statSync(file('hard.txt')).nlink).toBe(2);
        expect(errorOf(await host.get(prefix, '/hard.txt'))).toBe('refused: /hard.txt has 2 hard links, so it may be a file outside the device root');
        expect(errorOf(await host.json(prefix, 'sha', '/hard.txt'))).toMatch(/^refused: \/hard.txt has 2 hard links/);
        // A put replaces the name in the root; the outside file keeps its contents.
        expect((await host.put(prefix, '/hard.txt', utf8('mine'))).ok).toBe(true);
        expect(fs.readFileSync(path.join(outside.dir, 'secret.txt'), 'utf8')).toBe('secret');
        const r = await host.get(prefix, '/hard.txt');
        expect(r.ok && text(r.data)).toBe('mine');
      });

      it('treats an absolute host path as a path inside the root', async () => {
        const r = await host.put(prefix, `${os.tmpdir()}/abs.txt`, utf8('x'));
        expect(errorOf(r)).toMatch(/ENOENT/); // <root>/tmp/... does not exist: nothing written outside
      });
    });

    describe('file commands', () => {
      it('mkdir, ls, stat, sha, mv, rm and rmdir reply JSON', async () => {
        expect(await host.json(prefix, 'mkdir', '/fc/a/b', { parents: true })).toEqual({ ok: true, value: { ok: true, path: '/fc/a/b' } });
        await host.put(prefix, '/fc/a/b/x.txt', utf8('hello'));
        const ls = await host.json(prefix, 'ls', '/fc', { recursive: true });
        expect(ls.ok && ls.value).toMatchObject({
          path: '/fc',
          entries: [
            { name: 'a', type: 'dir' },
            { name: 'a/b', type: 'dir' },
            { name: 'a/b/x.txt', type: 'file', size: 5 },
          ],
        });
        const rootLs = await host.json(prefix, 'ls', '/');
        expect(rootLs.ok && JSON.stringify(rootLs.value)).not.toContain('.mqboard');
        expect(await host.json(prefix, 'stat', '/fc/a/b/x.txt')).toMatchObject({ ok: true, value: { path: '/fc/a/b/x.txt', type: 'file', size: 5 } });
        expect(await host.json(prefix, 'sha', '/fc/a/b/x.txt')).toEqual({
          ok: true,
          value: { path: '/fc/a/b/x.txt', sha256: sha256(utf8('hello')), size: 5 },
        });
        expect(await host.json(prefix, 'mv', '/fc/a/b/x.txt', { to: '/fc/y.txt' })).toEqual({ ok: true, value: { ok: true, path: '/fc/y.txt' } });
        expect(fs.readFileSync(file('fc/y.txt'), 'utf8')).toBe('hello');
        expect(errorOf(await host.json(prefix, 'rmdir', '/fc/a'))).toMatch(/ENOTEMPTY/);
        expect(errorOf(await host.json(prefix, 'rm', '/fc/a'))).toMatch(/EISDIR/);
        expect(await host.json(prefix, 'rm', '/fc/a', { recursive: true })).toMatchObject({ ok: true });
        expect(await host.json(prefix, 'rm', '/fc/y.txt')).toMatchObject({ ok: true });
        expect(await host.json(prefix, 'rmdir', '/fc')).toMatchObject({ ok: true });
        expect(fs.existsSync(file('fc'))).toBe(false);
      });

      it('refuses a listing larger than the host takes in one reply, naming what to do, and lists its parts', async () => {
        // 3,001 entries, one more than an ls reply holds (five JSON values each, 16,000 in all).
        for (let d = 0; d < 3; d++) {
          fs.mkdirSync(file(`big/d${d}`), { recursive: true });
          for (let i = 0; i < 1000; i++) fs.writeFileSync(file(`big/d${d}/f${i}`), '');
        }
        expect(errorOf(await host.json(prefix, 'ls', '/big', { recursive: true }))).toBe('ls reply too large: /big holds more than 3000 entries; list its subdirectories instead');
        const part = await host.json(prefix, 'ls', '/big/d0');
        expect(part.ok && (part.value as { entries: unknown[] }).entries.length).toBe(1000);
        // Long names fill the bytes first: 400 files four folders of 200 characters deep.
        const deep = Array.from({ length: 4 }, (_, i) => String(i).padStart(200, 'n')).join('/');
        fs.mkdirSync(file(`long/${deep}`), { recursive: true });
        for (let i = 0; i < 400; i++) fs.writeFileSync(file(`long/${deep}/f${i}`), '');
        expect(errorOf(await host.json(prefix, 'ls', '/long', { recursive: true }))).toMatch(/^ls reply too large: \/long holds 404 entries, \d{3} KiB of listing \(at most 256 KiB\); list its subdirectories instead$/);
        fs.rmSync(file('big'), { recursive: true });
        fs.rmSync(file('long'), { recursive: true });
      });

      it('rejects options that do not match the schema', async () => {
        expect(errorOf(await host.json(prefix, 'ls', '/', { recursive: 'yes' }))).toMatch(/invalid ls options: recursive/);
        expect(errorOf(await host.command(prefix, 'ls', '/', [encodeSingle(utf8('{not json'))]))).toMatch(/not JSON/);
      });

      it('refuses options over the 4 KiB options cap, or with too many values, unparsed and touching nothing', async () => {
        await host.put(prefix, '/capped.txt', utf8('kept'));
        // Valid options, padded past the cap: the generic JSON cap (256 KiB) would have let them through.
        const padded = utf8(`{"recursive":false}${' '.repeat(5_000)}`);
        expect(errorOf(await host.command(prefix, 'rm', '/capped.txt', [encodeSingle(padded)]))).toBe('invalid rm options: payload too large: 4.9 KiB, the limit is 4 KiB');
        const many = utf8(`{"to":"/moved.txt","overwrite":true,"x":[${Array(100).fill(0).join(',')}]}`);
        expect(errorOf(await host.command(prefix, 'mv', '/capped.txt', [encodeSingle(many)]))).toBe('invalid mv options: more than 64 values');
        expect(fs.readFileSync(file('capped.txt'), 'utf8')).toBe('kept');
        // The device keeps serving.
        expect(await host.json(prefix, 'rm', '/capped.txt')).toMatchObject({ ok: true });
      });
    });

    it('refuses reset options over the 4 KiB options cap, and does not reset', async () => {
      expect(text(((await host.eval(prefix, 'globalThis.beforeRefusedReset = 7')) as { data: Uint8Array }).data)).toBe('7');
      const padded = utf8(`{"mode":"soft"}${' '.repeat(5_000)}`);
      expect(errorOf(await host.command(prefix, 'reset', '', [encodeSingle(padded)]))).toBe('invalid reset options: payload too large: 4.9 KiB, the limit is 4 KiB');
      const after = await host.eval(prefix, 'globalThis.beforeRefusedReset');
      expect(after.ok && text(after.data)).toBe('7');
    });

    it("answers an unknown command with the original's error", async () => {
      const r = await host.command(prefix, 'frob', '', [encodeSingle(utf8(''))]);
      expect(errorOf(r)).toBe("Command 'frob' not supported");
    });

    it('publishes its activity as original-format log lines on P/log', async () => {
      const lines: string[] = [];
      const seen = new Promise<void>((resolve) => {
        host.client.on('message', (topic, payload) => {
          if (topic !== logTopic(prefix)) return;
          const l = decodeLogLine(payload);
          if (l.ok) lines.push(`${l.value.level} ${l.value.name}: ${l.value.text}`);
          if (l.ok && l.value.text.includes('/logged.txt: done')) resolve();
        });
      });
      await host.client.subscribeAsync(logTopic(prefix), { qos: 1 });
      await host.put(prefix, '/logged.txt', utf8('x'));
      await seen;
      expect(lines).toContain(`I mqrepl: put /logged.txt: done`);
      await host.client.unsubscribeAsync(logTopic(prefix));
    });
  });
}
