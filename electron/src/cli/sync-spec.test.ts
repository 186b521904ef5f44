import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../engine/test-support';
import { parseSyncSpec, planTarget } from './sync-spec';

describe('sync spec (the original format)', () => {
  it('reads targets with options, source dirs, renames and comments', () => {
    const spec = parseSyncSpec(
      ['# board files', '/lib: --no-update', '  src/lib: a.py b*.py   # libraries', '  board.py->board_config.py', '/: --check-only', '  main.py', ''].join('\n'),
    );
    expect(spec).toEqual([
      {
        dir: '/lib',
        options: { noUpdate: true },
        files: [
          { src: 'src/lib/a.py', dst: 'a.py' },
          { src: 'src/lib/b*.py', dst: 'b*.py' },
          { src: './board.py', dst: 'board_config.py' },
        ],
      },
      { dir: '/', options: { checkOnly: true }, files: [{ src: './main.py', dst: 'main.py' }] },
    ]);
  });

  it('names the line of a mistake', () => {
    expect(() => parseSyncSpec('  a.py')).toThrow(/line 1: no target directory/);
    expect(() => parseSyncSpec('/lib\n')).toThrow(/line 1: expected target directory followed by colon/);
    expect(() => parseSyncSpec('/lib:\n  a*.py->b.py')).toThrow(/line 2: cannot mix wildcards/);
  });

  it('puts missing and changed files, skips per the options, and creates a missing directory', () => {
    const t = tempDir('sync');
    mkdirSync(path.join(t.dir, 'src'));
    for (const n of ['a.py', 'b1.py', 'b2.py']) writeFileSync(path.join(t.dir, 'src', n), n);
    const hash = (src: string) => `sha-of-${path.posix.basename(src)}`;
    const [lib] = parseSyncSpec('/lib:\n  src: a.py b?.py\n');
    expect(planTarget(lib!, { 'a.py': 'sha-of-a.py', 'b1.py': 'old' }, hash, t.dir)).toEqual([
      { kind: 'ok', src: 'src/a.py', dst: '/lib/a.py' },
      { kind: 'put', src: 'src/b1.py', dst: '/lib/b1.py', why: 'shadiff' },
      { kind: 'put', src: 'src/b2.py', dst: '/lib/b2.py', why: 'missing' },
    ]);
    const [noUpdate] = parseSyncSpec('/lib: --no-update\n  src: b1.py b2.py\n');
    expect(planTarget(noUpdate!, { 'b1.py': 'old' }, hash, t.dir).map((a) => a.kind)).toEqual(['skip', 'put']);
    expect(planTarget(lib!, undefined, hash, t.dir)[0]).toEqual({ kind: 'mkdir', dir: '/lib' });
    t.remove();
  });
});
