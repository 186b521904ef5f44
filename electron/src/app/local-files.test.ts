// Desktop uploads read what the user chose: a folder contributes its whole tree (empty folders
// too) under its own name, symlinks are skipped; a finished download is written atomically.
import { mkdirSync, readFileSync, symlinkSync, writeFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { tempDir } from '../engine/test-support';
import { collectLocal, writeLocalAtomic } from './local-files';

describe('local files', () => {
  const dirs: { remove(): void }[] = [];
  afterEach(() => dirs.splice(0).forEach((d) => d.remove()));

  it('walks a chosen folder and takes chosen files by name', async () => {
    const t = tempDir('local');
    dirs.push(t);
    const app = path.join(t.dir, 'app');
    mkdirSync(path.join(app, 'lib', 'empty'), { recursive: true });
    writeFileSync(path.join(app, 'main.py'), 'x');
    writeFileSync(path.join(app, 'lib', 'u.py'), 'y');
    symlinkSync('/etc/passwd', path.join(app, 'lib', 'link'));
    writeFileSync(path.join(t.dir, 'single.txt'), 'z');
    const r = await collectLocal([app, path.join(t.dir, 'single.txt')]);
    expect(r.files.map((f) => f.rel).sort()).toEqual(['app/lib/u.py', 'app/main.py', 'single.txt']);
    expect(r.dirs.sort()).toEqual(['app', 'app/lib', 'app/lib/empty']);
  });

  it('writes a download beside its destination and renames it into place', async () => {
    const t = tempDir('local-w');
    dirs.push(t);
    const file = path.join(t.dir, 'out', 'd.bin');
    await writeLocalAtomic(file, new Uint8Array([1, 2, 3]));
    expect([...readFileSync(file)]).toEqual([1, 2, 3]);
    expect(existsSync(`${file}.${process.pid}.part`)).toBe(false);
  });
});
