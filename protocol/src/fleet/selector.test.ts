// The selector syntax of docs/fleet.md: parsing (with the column of a mistake) and matching
// against device states as the engine lists them.
import { describe, expect, it } from 'vitest';
import { globMatch, parseSelector, selectDevices, SelectorError, type FleetDevice } from './selector';
import { compareVersions, parseVersion, readFirmwareVersion } from './semver';

const dev = (prefix: string, o: Partial<FleetDevice> = {}): FleetDevice => ({ prefix, kind: 'mqboard', presence: 'online', since: 0, source: 'status', ...o });

const fleet: FleetDevice[] = [
  dev('greenhouse/01', { firmware: '2.5.0', tags: ['greenhouse', 'pump'] }),
  dev('greenhouse/02', { firmware: '2.4.1', tags: ['greenhouse'], mode: 'safe' }),
  dev('greenhouse/east/03', { firmware: '2.5.0-rc.1', presence: 'offline' }),
  dev('lab/bench', { firmware: 'v2.6.0', crashCount: 2, tags: ['Lab'] }),
  dev('esp32/old', { kind: 'original', firmware: 'esp32-20230426-v1.20.0', presence: 'unknown' }),
  dev('cellar', { kind: 'unknown', source: 'manual', presence: 'unknown' }),
];
const pick = (sel: string, opts = {}) => selectDevices(sel, fleet, opts).map((d) => d.prefix);

function failure(sel: string): SelectorError {
  try {
    parseSelector(sel);
  } catch (e) {
    if (e instanceof SelectorError) return e;
    throw e;
  }
  throw new Error(`"${sel}" parsed`);
}

describe('versions', () => {
  it('order as semver: numbers numerically, pre-releases before their release', () => {
    const order = ['1.0.0-alpha', '1.0.0-alpha.1', '1.0.0-alpha.beta', '1.0.0-beta.2', '1.0.0-beta.11', '1.0.0-rc.1', '1.0.0', '1.2', '1.10.0', '2'];
    const vs = order.map((t) => parseVersion(t)!);
    for (let i = 1; i < vs.length; i++) expect(compareVersions(vs[i - 1]!, vs[i]!), `${order[i - 1]} < ${order[i]}`).toBe(-1);
    expect(compareVersions(parseVersion('2.5')!, parseVersion('v2.5.0+build.7')!)).toBe(0);
  });

  it('are read from what devices report, or not at all', () => {
    expect(readFirmwareVersion('esp32-20230426-v1.20.0')).toMatchObject({ major: 1, minor: 20, patch: 0 });
    expect(readFirmwareVersion('v3.1.4-beta')).toMatchObject({ major: 3, minor: 1, patch: 4, pre: ['beta'] });
    expect(readFirmwareVersion('20230426')).toMatchObject({ major: 20230426 });
    expect(readFirmwareVersion('custom build')).toBeUndefined();
    expect(readFirmwareVersion(undefined)).toBeUndefined();
    expect(readFirmwareVersion('1.'.repeat(500))).toBeUndefined();
  });
});

describe('prefix globs', () => {
  it('* stays within one level, ** spans any number of levels', () => {
    expect(globMatch('greenhouse/*', 'greenhouse/01')).toBe(true);
    expect(globMatch('greenhouse/*', 'greenhouse/east/03')).toBe(false);
    expect(globMatch('greenhouse/**', 'greenhouse/east/03')).toBe(true);
    expect(globMatch('greenhouse/**', 'greenhouse')).toBe(true);
    expect(globMatch('**/03', 'greenhouse/east/03')).toBe(true);
    expect(globMatch('green*/0?', 'greenhouse/0?')).toBe(true);
    expect(globMatch('green*/0*', 'greenhouse/east')).toBe(false);
    expect(globMatch('*', 'cellar')).toBe(true);
    expect(globMatch('**', 'a/b/c')).toBe(true);
  });

  it('do not take exponential time on many stars', () => {
    const glob = Array.from({ length: 30 }, () => '**').join('/') + '/x';
    const prefix = Array.from({ length: 200 }, () => 'a').join('/');
    expect(globMatch(glob, prefix)).toBe(false);
    expect(globMatch('*a*a*a*a*a*a*a*a*b', 'a'.repeat(1000))).toBe(false);
  });
});

describe('selecting devices', () => {
  it('selects everything with an empty selector', () => {
    expect(pick('  ')).toHaveLength(fleet.length);
  });

  it('by tag, values ORed, case-insensitively, including tags the user gave', () => {
    expect(pick('tag:greenhouse')).toEqual(['greenhouse/01', 'greenhouse/02']);
    expect(pick('tag:pump,lab')).toEqual(['greenhouse/01', 'lab/bench']);
    expect(pick('tag:cold', { userTags: { cellar: ['cold'] } })).toEqual(['cellar']);
    expect(pick('tag:cold', { userTags: new Map([['esp32/old', ['cold']]]) })).toEqual(['esp32/old']);
  });

  it('ignores tags a device reports in the wrong shape', () => {
    const odd = [dev('x', { tags: 'greenhouse' as unknown as string[] }), dev('y', { tags: [1, 'greenhouse'] as unknown as string[] })];
    expect(selectDevices('tag:greenhouse', odd).map((d) => d.prefix)).toEqual(['y']);
  });

  it('by prefix glob, bare or as prefix:', () => {
    expect(pick('greenhouse/*')).toEqual(['greenhouse/01', 'greenhouse/02']);
    expect(pick('prefix:greenhouse/**,cellar')).toEqual(['greenhouse/01', 'greenhouse/02', 'greenhouse/east/03', 'cellar']);
  });

  it('by firmware version, semver-aware, never matching a version it cannot read', () => {
    expect(pick('fw<2.5.0')).toEqual(['greenhouse/02', 'greenhouse/east/03', 'esp32/old']);
    expect(pick('fw>=2.5')).toEqual(['greenhouse/01', 'lab/bench']);
    expect(pick('fw=2.4.1,2.6.0')).toEqual(['greenhouse/02', 'lab/bench']);
    expect(pick('fw:1.20')).toEqual(['esp32/old']);
    expect(pick('fw!=2.5.0')).toEqual(['greenhouse/02', 'greenhouse/east/03', 'lab/bench', 'esp32/old']);
    expect(pick('-fw!=2.5.0')).toEqual(['greenhouse/01', 'cellar']);
  });

  it('by state: online, offline (anything not known online), unknown, safe, crashed, outdated', () => {
    expect(pick('online')).toEqual(['greenhouse/01', 'greenhouse/02', 'lab/bench']);
    expect(pick('offline')).toEqual(['greenhouse/east/03', 'esp32/old', 'cellar']);
    expect(pick('unknown')).toEqual(['esp32/old', 'cellar']);
    expect(pick('safe')).toEqual(['greenhouse/02']);
    expect(pick('crashed')).toEqual(['lab/bench']);
    expect(pick('state:safe,crashed')).toEqual(['greenhouse/02', 'lab/bench']);
    expect(pick('is:unknown -kind:unknown')).toEqual(['esp32/old']);
  });

  it('calls outdated what is older than the newest firmware in the fleet, or than --latest', () => {
    expect(pick('outdated')).toEqual(['greenhouse/01', 'greenhouse/02', 'greenhouse/east/03', 'esp32/old']);
    expect(pick('outdated', { latest: '2.5.0' })).toEqual(['greenhouse/02', 'greenhouse/east/03', 'esp32/old']);
    expect(() => pick('outdated', { latest: 'newest' })).toThrow(/"newest" is not a version/);
  });

  it('by kind', () => {
    expect(pick('kind:original,unknown')).toEqual(['esp32/old', 'cellar']);
  });

  it('by free text over prefix, firmware and tags, quoted when it has spaces or looks like a term', () => {
    expect(pick('east')).toEqual(['greenhouse/east/03']);
    expect(pick('RC.1')).toEqual(['greenhouse/east/03']);
    expect(pick('pump')).toEqual(['greenhouse/01']);
    expect(pick('"online"')).toEqual([]);
    expect(pick('text:2023')).toEqual(['esp32/old']);
    expect(pick('"green house"')).toEqual([]);
    expect(pick('nice', { userTags: { cellar: ['nice and cold'] } })).toEqual(['cellar']);
  });

  it('ANDs terms and negates with - or not:', () => {
    expect(pick('tag:greenhouse fw<2.5.0 online')).toEqual(['greenhouse/02']);
    expect(pick('greenhouse/** -safe online')).toEqual(['greenhouse/01']);
    expect(pick('not:kind:mqboard not:cellar')).toEqual(['esp32/old']);
  });
});

describe('selecting the same devices again', () => {
  // What a selector reads from a device is kept per device object: an update replaces the object.
  it('reads a replaced device afresh: firmware, tags and prefix', () => {
    const before = dev('a/1', { firmware: '2.4.0', tags: ['lab'] });
    expect(selectDevices('fw<2.5 tag:lab a/* lab', [before])).toHaveLength(1);
    const after = { ...before, firmware: '2.5.0', tags: ['field'] };
    expect(selectDevices('fw<2.5', [after])).toEqual([]);
    expect(selectDevices('tag:lab', [after])).toEqual([]);
    expect(selectDevices('lab', [after])).toEqual([]);
    expect(selectDevices('tag:field field fw=2.5', [after])).toEqual([after]);
    expect(selectDevices('a/*', [{ ...after, prefix: 'b/1' }])).toEqual([]);
    // The old object still answers for what it was.
    expect(selectDevices('fw<2.5 tag:lab', [before])).toEqual([before]);
  });

  it('reads the tags the user gave again when the settings replace them', () => {
    const d = dev('a/1');
    const first = { 'a/1': ['Cold'] };
    expect(selectDevices('tag:cold', [d], { userTags: first })).toEqual([d]);
    expect(selectDevices('tag:cold', [d], { userTags: { 'a/1': ['warm'] } })).toEqual([]);
    expect(selectDevices('warm', [d], { userTags: { 'a/1': ['warm'] } })).toEqual([d]);
    expect(selectDevices('cold', [d], { userTags: first })).toEqual([d]);
  });

  it("searches text across the device's lines and the user's tags as one text", () => {
    const d = dev('a/1', { tags: ['Pump'] });
    expect(selectDevices('"pump\nshelf"', [d], { userTags: { 'a/1': ['Shelf'] } })).toEqual([d]);
    expect(selectDevices('"pump\nshelf"', [d])).toEqual([]);
  });

  it('counts outdated against the newest firmware of the list given each time', () => {
    const old = dev('a/1', { firmware: '2.4.0' });
    const newer = dev('a/2', { firmware: '2.5.0' });
    expect(selectDevices('outdated', [old, newer])).toEqual([old]);
    expect(selectDevices('outdated', [old])).toEqual([]);
  });
});

describe('selector mistakes', () => {
  it('name the column and what was expected', () => {
    expect(failure('online stat:safe').message).toBe('selector: unknown field "stat:" (fields: tag: prefix: fw state: kind: text:; quote text that contains a colon) at column 8');
    expect(failure('state:onlin')).toMatchObject({ at: 6, length: 5, message: 'selector: unknown state "onlin" (states: online, offline, unknown, safe, crashed, outdated) at column 7' });
    expect(failure('fw<2.x')).toMatchObject({ at: 3, message: 'selector: "2.x" is not a version (e.g. 2.5.0, 2.5 or 2.5.0-rc.1) at column 4' });
    expect(failure('fw<1.0,2.0').message).toBe('selector: fw< takes one version at column 8');
    expect(failure('fw=>1').message).toMatch(/^selector: ">1" is not a version/);
    expect(failure('fw~1.0').message).toBe('selector: unknown comparison in "fw~1.0" (use fw< fw<= fw> fw>= fw= fw!=) at column 1');
    expect(failure('tag:a,,b')).toMatchObject({ at: 6, message: 'selector: tag: is missing a value at column 7' });
    expect(failure('tag:')).toMatchObject({ at: 4 });
    expect(failure('- online')).toMatchObject({ at: 0, message: 'selector: "-" negates nothing at column 1' });
    expect(failure('text:"open')).toMatchObject({ at: 5, message: 'selector: unclosed quote at column 6' });
    expect(failure('a/+/b*').message).toMatch(/contains \+ # or NUL/);
    expect(failure('a/x**').message).toMatch(/\*\* must be a whole level/);
    expect(failure('greenhouse/*/').message).toMatch(/empty level/);
    expect(failure('kind:esp').message).toMatch(/unknown kind "esp" \(kinds: mqboard, original, unknown\)/);
    expect(failure('x'.repeat(5000)).message).toMatch(/longer than 4096 characters/);
    expect(failure(Array.from({ length: 70 }, () => 'a').join(' ')).message).toMatch(/more than 64 terms/);
  });
});
