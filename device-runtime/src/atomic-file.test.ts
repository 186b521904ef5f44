import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createAtomicWriter, verify } from './atomic-file';
import { tmpRoot } from './test-support/tmp-root';

let root: ReturnType<typeof tmpRoot>;
beforeEach(() => {
  root = tmpRoot('atomic');
});
afterEach(() => root.cleanup());

const tmp = () => path.join(root.dir, 'tmp');
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

describe('atomic writer', () => {
  it('writes chunks of any size, across its staging buffers, and commits exactly them under the real name', async () => {
    const data = randomBytes(3 * 1024 * 1024 + 777);
    const w = await createAtomicWriter(tmp(), 'put-x');
    // Odd sizes, so chunks straddle the writer's internal buffer boundaries.
    for (let off = 0, n = 1; off < data.length; off += n, n = (n * 7 + 13) % 200_000 || 1) await w.write(data.subarray(off, off + n));
    expect(w.size()).toBe(data.length);
    verify(w, { sha256: sha(data), size: data.length });
    const dest = path.join(root.dir, 'file.bin');
    await w.commit(dest);
    await w.discard();
    expect(fs.readFileSync(dest).equals(data)).toBe(true);
    expect(fs.readdirSync(tmp())).toEqual([]);
  });

  it('does not keep a reference to the chunks it was given', async () => {
    const w = await createAtomicWriter(tmp(), 'put-y');
    const chunk = Buffer.from('first');
    await w.write(chunk);
    chunk.write('XXXXX');
    await w.write(Buffer.from('-second'));
    const dest = path.join(root.dir, 'y.txt');
    await w.commit(dest);
    expect(fs.readFileSync(dest, 'utf8')).toBe('first-second');
  });

  it('has everything in the temp file after flush, for reading it back before the commit', async () => {
    const w = await createAtomicWriter(tmp(), 'ota-z');
    await w.write(Buffer.from('image bytes'));
    await w.flush();
    expect(fs.readFileSync(w.tempPath, 'utf8')).toBe('image bytes');
    await w.discard();
  });

  it('leaves nothing behind when discarded, and the real name untouched', async () => {
    const dest = path.join(root.dir, 'keep.txt');
    fs.writeFileSync(dest, 'old');
    const w = await createAtomicWriter(tmp(), 'put-d');
    await w.write(randomBytes(600_000));
    await w.discard();
    expect(fs.readFileSync(dest, 'utf8')).toBe('old');
    expect(fs.readdirSync(tmp())).toEqual([]);
  });

  it('refuses content that does not match what the sender announced', async () => {
    const w = await createAtomicWriter(tmp(), 'put-v');
    await w.write(Buffer.from('abc'));
    expect(() => verify(w, { size: 4 })).toThrow(/size mismatch/);
    expect(() => verify(w, { sha256: 'a'.repeat(64) })).toThrow(/SHA256 mismatch/);
    await w.discard();
  });
});
