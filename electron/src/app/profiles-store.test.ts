// Profiles on disk: mode 0600 in a 0700 folder, secrets never returned to the renderer, kept or cleared on edit
// as the form says, exported without secrets unless asked.
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openProfilesStore } from './profiles-store';
import { plainFileCodec, type SecretCodec } from './secrets';

/** A reversible codec whose output differs from its input, to prove the codec is applied. */
const rot: SecretCodec = { kind: 'safeStorage', encode: (s) => `enc:${[...s].reverse().join('')}`, decode: (s) => [...s.slice(4)].reverse().join('') };

describe('profiles store', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'mqb-profiles-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('starts as a first run and writes the settings file with mode 0600', () => {
    const s = openProfilesStore(dir, plainFileCodec);
    expect(s.firstRun).toBe(true);
    s.save({ name: 'Home', url: 'mqtt://pi.local' });
    expect(statSync(s.path).mode & 0o777).toBe(0o600);
    expect(openProfilesStore(dir, plainFileCodec).firstRun).toBe(false);
  });

  it('encodes secrets at rest and never returns them in summaries', () => {
    const s = openProfilesStore(dir, rot);
    const saved = s.save({ name: 'Plant', url: 'mqtts://plant:8883', username: 'op', password: 'hunter2', key: 'PRIVATE' });
    expect(saved).toMatchObject({ hasPassword: true, hasKey: true });
    expect(saved).not.toHaveProperty('password');
    const file = readFileSync(s.path, 'utf8');
    expect(file).not.toContain('hunter2');
    expect(file).toContain('enc:2retnuh');
    expect(s.brokerProfile(saved.id)).toMatchObject({ password: 'hunter2', key: 'PRIVATE' });
  });

  it('keeps a stored password when the edit omits it and clears it on an empty string', () => {
    const s = openProfilesStore(dir, plainFileCodec);
    const saved = s.save({ name: 'A', url: 'mqtt://a', password: 'pw' });
    s.save({ id: saved.id, name: 'A2', url: 'mqtt://a' });
    expect(s.brokerProfile(saved.id)).toMatchObject({ name: 'A2', password: 'pw' });
    s.save({ id: saved.id, name: 'A2', url: 'mqtt://a', password: '' });
    expect(s.brokerProfile(saved.id).password).toBeUndefined();
  });

  it('exports without secrets unless asked, and imports what it exported', () => {
    const s = openProfilesStore(dir, plainFileCodec);
    s.save({ name: 'A', url: 'mqtt://a', username: 'u', password: 'pw' });
    expect(s.exportJson(false)).not.toContain('pw');
    const withSecrets = s.exportJson(true);
    expect(withSecrets).toContain('"password": "pw"');
    const other = openProfilesStore(mkdtempSync(path.join(dir, 'b-')), plainFileCodec);
    expect(other.importJson(withSecrets)).toBe(1);
    const [p] = other.state().profiles;
    expect(p).toMatchObject({ name: 'A', username: 'u', hasPassword: true });
    expect(() => other.importJson('{"profiles":[]}')).toThrow(/not an MQBoard profiles file/);
  });

  it('drops secrets written by the other shell instead of failing to decode them', () => {
    const s = openProfilesStore(dir, rot);
    const saved = s.save({ name: 'A', url: 'mqtt://a', password: 'pw' });
    const web = openProfilesStore(dir, plainFileCodec);
    expect(web.brokerProfile(saved.id).password).toBeUndefined();
  });

  describe('privacy', () => {
    const mode = (p: string) => statSync(p).mode & 0o777;
    let umask: number;
    // The usual umask, under which a plain mkdir makes a folder other users can list and read.
    beforeEach(() => {
      umask = process.umask(0o022);
    });
    afterEach(() => {
      process.umask(umask);
    });

    it('creates the settings folder 0700 when it opens, before anything is written into it', () => {
      const settings = path.join(dir, 'config', 'mqboard');
      const s = openProfilesStore(settings, plainFileCodec);
      expect(mode(settings)).toBe(0o700);
      expect(mode(path.join(dir, 'config'))).toBe(0o700);
      s.save({ name: 'Home', url: 'mqtt://pi.local' });
      expect(mode(s.path)).toBe(0o600);
    });

    it('makes a settings folder and file that other users could read private', () => {
      openProfilesStore(dir, plainFileCodec).save({ name: 'Home', url: 'mqtt://pi.local', password: 'pw' });
      chmodSync(dir, 0o755);
      chmodSync(path.join(dir, 'settings.json'), 0o644);
      const s = openProfilesStore(dir, plainFileCodec);
      expect(mode(dir)).toBe(0o700);
      expect(mode(s.path)).toBe(0o600);
      expect(s.state().profiles).toHaveLength(1);
    });
  });
});
