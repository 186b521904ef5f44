// Device path helpers: joining, parents, names the user may type, what opens in the editor.
import { describe, expect, it } from 'vitest';
import { baseName, isTextName, join, nameProblem, parentOf } from './paths';

describe('device paths', () => {
  it('joins and splits absolute device paths', () => {
    expect(join('/', 'a.py')).toBe('/a.py');
    expect(join('/lib/', '/sub/b.py')).toBe('/lib/sub/b.py');
    expect(parentOf('/lib/sub/b.py')).toBe('/lib/sub');
    expect(parentOf('/a.py')).toBe('/');
    expect(baseName('/lib/sub/')).toBe('sub');
    expect(baseName('/')).toBe('/');
  });

  it('refuses names that are not one usable path segment', () => {
    expect(nameProblem('main.py')).toBeNull();
    for (const bad of ['', ' ', '..', 'a/b', 'a\\b', 'a+b', 'a#b', 'x'.repeat(256)]) expect(nameProblem(bad)).not.toBeNull();
  });

  it('opens source and config files in the editor, not binaries', () => {
    expect(isTextName('boot.py')).toBe(true);
    expect(isTextName('config.json')).toBe(true);
    expect(isTextName('README')).toBe(true);
    expect(isTextName('firmware.bin')).toBe(false);
  });
});
