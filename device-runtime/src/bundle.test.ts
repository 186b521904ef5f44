// The app-bundle format: what the device unpacks, and what it refuses before unpacking anything.
import fs from 'node:fs';
import path from 'node:path';
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
    await expect(unpackBundle(junk, fresh(), 1e6)).rejects.toThrow(/not an app bundle/);
  });

  it('refuses a bundle without a valid manifest', async () => {
    const file = await tarOf((src) => fs.writeFileSync(path.join(src, 'manifest.json'), JSON.stringify({ format: 'other', name: 'x', version: '1' })), ['manifest.json']);
    await expect(unpackBundle(file, fresh(), 1e6)).rejects.toThrow(/bad app bundle: invalid manifest.json: format/);
  });
});
