// Tags and saved views kept per broker profile in fleet.json: they survive reopening, edits are
// all or nothing, and a file that does not read back is kept aside instead of being overwritten.
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { tempDir } from '../engine/test-support';
import { MAX_TAGS_PER_DEVICE, openFleetSettingsStore } from './fleet-settings-store';

describe('the fleet settings store', () => {
  const dir = tempDir('fleet-settings');
  afterAll(() => dir.remove());
  let n = 0;
  const fresh = () => path.join(dir.dir, `s${++n}`, 'fleet.json');

  it('keeps tags and views per broker profile, across reopening, in a file only the user can read', () => {
    const file = fresh();
    const s = openFleetSettingsStore(file);
    s.setTags('home', ['gh/01', 'gh/02'], ['greenhouse', 'east'], []);
    s.setTags('home', ['gh/02'], ['pump'], ['east']);
    s.saveView('home', { name: 'Greenhouse', selector: 'tag:greenhouse online' });
    s.setTags('work', ['gh/01'], ['lab'], []);
    expect(statSync(file).mode & 0o777).toBe(0o600);

    const again = openFleetSettingsStore(file);
    expect(again.problem).toBeUndefined();
    expect(again.get('home')).toEqual({
      profile: 'home',
      tags: { 'gh/01': ['greenhouse', 'east'], 'gh/02': ['greenhouse', 'pump'] },
      views: [{ name: 'Greenhouse', selector: 'tag:greenhouse online' }],
    });
    // The same prefix on another broker is another device.
    expect(again.get('work')).toEqual({ profile: 'work', tags: { 'gh/01': ['lab'] }, views: [] });
    expect(again.get('nowhere')).toEqual({ profile: 'nowhere', tags: {}, views: [] });
    expect(again.get(null)).toEqual({ profile: null, tags: {}, views: [] });
    expect(readdirSync(path.dirname(file))).toEqual(['fleet.json']);
  });

  it('drops a device from the tag list once its last tag is removed', () => {
    const s = openFleetSettingsStore(fresh());
    s.setTags('home', ['a', 'b'], ['x'], []);
    expect(s.setTags('home', ['a'], [], ['x']).tags).toEqual({ b: ['x'] });
  });

  it('tags ten thousand devices in one call and reads them back', () => {
    const file = fresh();
    const prefixes = Array.from({ length: 10_000 }, (_, i) => `site/${String(i).padStart(5, '0')}`);
    const s = openFleetSettingsStore(file);
    expect(Object.keys(s.setTags('home', prefixes, ['field'], []).tags)).toHaveLength(10_000);
    const back = openFleetSettingsStore(file).get('home').tags;
    expect(back['site/09999']).toEqual(['field']);
    expect(Object.keys(back)).toHaveLength(10_000);
  });

  it('changes no device when one of them would go over the tag limit', () => {
    const s = openFleetSettingsStore(fresh());
    const many = Array.from({ length: MAX_TAGS_PER_DEVICE }, (_, i) => `t${i}`);
    s.setTags('home', ['full'], many, []);
    expect(() => s.setTags('home', ['empty', 'full'], ['one-more'], [])).toThrow(/full would have 33 tags/);
    expect(s.get('home').tags).toEqual({ full: many });
  });

  it('treats a prefix named like an object property as just a device', () => {
    const file = fresh();
    openFleetSettingsStore(file).setTags('home', ['__proto__', 'constructor'], ['odd'], []);
    const tags = openFleetSettingsStore(file).get('home').tags;
    expect(Object.entries(tags)).toEqual([
      ['__proto__', ['odd']],
      ['constructor', ['odd']],
    ]);
  });

  it('replaces a view of the same name and deletes views by name', () => {
    const s = openFleetSettingsStore(fresh());
    s.saveView('home', { name: 'Old', selector: 'fw<2.5.0' });
    s.saveView('home', { name: 'Down', selector: 'offline' });
    s.saveView('home', { name: ' Old ', selector: 'fw<3.0.0' });
    expect(s.get('home').views).toEqual([
      { name: 'Old', selector: 'fw<3.0.0' },
      { name: 'Down', selector: 'offline' },
    ]);
    expect(s.deleteView('home', 'Old').views).toEqual([{ name: 'Down', selector: 'offline' }]);
    expect(s.deleteView('home', 'Missing').views).toHaveLength(1);
  });

  it('keeps a file that is not JSON beside it, warns, and starts empty', () => {
    const file = fresh();
    openFleetSettingsStore(file).setTags('home', ['a'], ['x'], []);
    writeFileSync(file, '{"version":1,"profiles":[');
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined);
    try {
      const s = openFleetSettingsStore(file);
      expect(s.problem).toMatch(/are not JSON .*the file was kept as .*fleet\.json\.unreadable-\d+ and tags and views start empty$/);
      expect(warn).toHaveBeenCalledWith(expect.stringContaining(s.problem!));
      expect(s.get('home').tags).toEqual({});
      const aside = readdirSync(path.dirname(file)).find((f) => f.includes('unreadable'))!;
      expect(readFileSync(path.join(path.dirname(file), aside), 'utf8')).toBe('{"version":1,"profiles":[');
    } finally {
      warn.mockRestore();
    }
  });

  it('loads the profiles it can read and keeps a copy of the whole file when one is bad', () => {
    const file = fresh();
    const good = { tags: [['a', ['x']]], views: [] };
    const raw = JSON.stringify({ version: 1, profiles: [['home', good], ['work', { tags: [['b', ['has space']]], views: [] }]] });
    mkdirSync(path.dirname(file));
    writeFileSync(file, raw);
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined);
    try {
      const s = openFleetSettingsStore(file);
      expect(s.problem).toMatch(/^the tags and views of 1 broker profile in .* could not be read; the file as it was is kept as /);
      expect(s.get('home').tags).toEqual({ a: ['x'] });
      expect(s.get('work').tags).toEqual({});
      // An edit rewrites the file; the copy still has what could not be read.
      s.setTags('home', ['c'], ['y'], []);
      const aside = readdirSync(path.dirname(file)).find((f) => f.includes('unreadable'))!;
      expect(JSON.parse(readFileSync(path.join(path.dirname(file), aside), 'utf8'))).toEqual(JSON.parse(raw));
    } finally {
      warn.mockRestore();
    }
  });
});
