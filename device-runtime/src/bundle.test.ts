// The app-bundle format: what the device unpacks, and what it refuses before unpacking anything.
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import * as tar from 'tar';
import { afterAll, describe, expect, it } from 'vitest';
import { BUNDLE_FORMAT, createBundle, unpackBundle } from './bundle';
import { tmpRoot } from './test-support/tmp-root';

const dir = tmpRoot('bundle');
afterAll(() => dir.cleanup());
let n = 0;
const fresh = () => path.join(dir.dir, `out-${n++}`);

async function tarOf(entries: (src: string) => void, files: string[], preservePaths = false): Promise<string> {
  const src = fresh();
  fs.mkdirSync(src);
  entries(src);
  const file = `${src}.tar`;
  await tar.c({ file, cwd: src, preservePaths }, files);
  return file;
}

describe('app bundles', () => {
  it('unpacks a bundle made by createBundle and returns its manifest', async () => {
    const image = await createBundle({ name: 'app', version: '1.2.3', modules: ['main'] }, { 'main.mjs': 'export function start() {}\n', 'lib/x.mjs': '' });
    const file = `${fresh()}.tar`;
    fs.writeFileSync(file, image);
    const dest = fresh();
    expect(await unpackBundle(file, dest, 1e6)).toEqual({ format: BUNDLE_FORMAT, name: 'app', version: '1.2.3', modules: ['main'] });
    expect(fs.readFileSync(path.join(dest, 'main.mjs'), 'utf8')).toContain('start');
    expect(fs.existsSync(path.join(dest, 'lib', 'x.mjs'))).toBe(true);
  });

  it('unpacks a gzip-compressed bundle', async () => {
    const image = gzipSync(await createBundle({ name: 'app', version: '1.2.4', modules: ['main'] }, { 'main.mjs': 'export function start() {}\n' }));
    const file = `${fresh()}.tar.gz`;
    fs.writeFileSync(file, image);
    expect(await unpackBundle(file, fresh(), 1e6)).toMatchObject({ version: '1.2.4', modules: ['main'] });
  });

  it('refuses symlinks in the archive', async () => {
    const file = await tarOf((src) => {
      fs.writeFileSync(path.join(src, 'manifest.json'), JSON.stringify({ format: BUNDLE_FORMAT, name: 'x', version: '1' }));
      fs.symlinkSync('/etc/passwd', path.join(src, 'evil'));
    }, ['manifest.json', 'evil']);
    const dest = fresh();
    await expect(unpackBundle(file, dest, 1e6)).rejects.toThrow(/only files and directories/);
    expect(fs.existsSync(dest)).toBe(false);
  });

  it('refuses entries that climb out of the bundle', async () => {
    const file = await tarOf((src) => fs.writeFileSync(path.join(path.dirname(src), 'outside.txt'), 'x'), ['../outside.txt'], true);
    await expect(unpackBundle(file, fresh(), 1e6)).rejects.toThrow(/outside the bundle/);
  });

  it('refuses archives that unpack beyond the size limit, and non-archives', async () => {
    const image = await createBundle({ name: 'big', version: '1' }, { 'blob.bin': new Uint8Array(10_000) });
    const file = `${fresh()}.tar`;
    fs.writeFileSync(file, image);
    await expect(unpackBundle(file, fresh(), 5_000)).rejects.toThrow(/more than 5000 bytes/);
    const junk = `${fresh()}.bin`;
    fs.writeFileSync(junk, 'definitely not a tar archive'.repeat(40));
    await expect(unpackBundle(junk, fresh(), 1e6)).rejects.toThrow('not an app bundle: it does not start with a tar header');
  });

  it('says in words why an image is not a bundle, before unpacking anything', async () => {
    const refusal = async (bytes: Uint8Array) => {
      const file = `${fresh()}.bin`;
      fs.writeFileSync(file, bytes);
      const dest = fresh();
      const e = await unpackBundle(file, dest, 1e6).then(() => undefined, (err: unknown) => (err as Error).message);
      expect(fs.existsSync(dest)).toBe(false);
      return e;
    };
    // Random bytes once surfaced tar's "invalid base256 encoding".
    const noise = randomBytes(5000);
    noise[0] = 0x42; // not a magic byte of gzip, zip or ESP32 firmware
    expect(await refusal(noise)).toBe('not an app bundle: it does not start with a tar header');
    expect(await refusal(Buffer.concat([Buffer.from([0xe9, 0x06, 0x02, 0x20]), randomBytes(4000)]))).toBe(
      'not an app bundle: it starts with 0xE9, like ESP32 firmware: that is for an original board, not for this runtime',
    );
    expect(await refusal(Buffer.from('PK\x03\x04rest of a zip'.padEnd(600, 'x')))).toMatch(/^not an app bundle: it is a zip archive/);
    expect(await refusal(Buffer.from('short'))).toBe('not an app bundle: it has 5 bytes, fewer than one tar header');
    expect(await refusal(new Uint8Array(0))).toBe('not an app bundle: the image is empty');
    expect(await refusal(Buffer.concat([Buffer.from([0x1f, 0x8b, 8, 0]), randomBytes(600)]))).toBe('not an app bundle: its gzip data is damaged');
    const image = await createBundle({ name: 'app', version: '1' }, { 'big.mjs': randomBytes(20_000).toString('hex') });
    expect(await refusal(image.subarray(0, image.length >> 1))).toBe('not an app bundle: the archive is truncated');
  });

  it('refuses a bundle without a valid manifest', async () => {
    const file = await tarOf((src) => fs.writeFileSync(path.join(src, 'manifest.json'), JSON.stringify({ format: 'other', name: 'x', version: '1' })), ['manifest.json']);
    await expect(unpackBundle(file, fresh(), 1e6)).rejects.toThrow(/bad app bundle: invalid manifest.json: format/);
  });
});
