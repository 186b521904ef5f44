// The root jail on its own: which device paths map where, and which are refused.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openJail, resolveDevicePath, type Jail } from './jail';
import { tmpRoot } from './test-support/tmp-root';

describe('root jail', () => {
  const root = tmpRoot('jail');
  const outside = tmpRoot('jail-out');
  let jail: Jail;
  beforeAll(async () => {
    jail = await openJail(root.dir);
    fs.mkdirSync(path.join(root.dir, 'lib'));
    fs.symlinkSync(path.join(root.dir, 'lib'), path.join(root.dir, 'lib-alias'));
    fs.symlinkSync(outside.dir, path.join(root.dir, 'out'));
    fs.symlinkSync(path.join(root.dir, 'nowhere'), path.join(root.dir, 'dangling'));
    fs.symlinkSync(jail.privateDir, path.join(root.dir, 'private'));
  });
  afterAll(() => {
    root.cleanup();
    outside.cleanup();
  });

  it('maps device paths below the root, relative ones from /', async () => {
    expect(await resolveDevicePath(jail, '/lib/a.py')).toEqual({ device: '/lib/a.py', host: path.join(jail.root, 'lib', 'a.py'), isRoot: false });
    expect((await resolveDevicePath(jail, 'lib//./a.py')).device).toBe('/lib/a.py');
    expect(await resolveDevicePath(jail, '/')).toMatchObject({ device: '/', isRoot: true });
  });

  it('allows symlinks that stay inside the root, also for files that do not exist yet', async () => {
    expect((await resolveDevicePath(jail, '/lib-alias/new/deeper.txt')).device).toBe('/lib-alias/new/deeper.txt');
  });

  it('refuses .., links out of the root or into private state, dangling links and NUL', async () => {
    for (const p of ['/../x', 'a/../../x', '/out', '/out/new.txt', '/private/rtc.json', '/.mqboard', '/.MQBoard/x', '/dangling', '/dangling/x', 'a\u0000b']) {
      await expect(resolveDevicePath(jail, p), p).rejects.toThrow(/escapes|reserved|dangling|NUL/);
    }
  });
});
