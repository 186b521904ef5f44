// The list's rows: filters, search, sort, grouping, and the memo that keeps the same array
// while the visible order does not change.
import { describe, expect, it } from 'vitest';
import type { DeviceState } from '../../../protocol/src';
import { computeRows, parseSearch, rowsSelector, type ViewInput } from './device-view';

const dev = (prefix: string, o: Partial<DeviceState> = {}): DeviceState => ({ prefix, kind: 'mqboard', presence: 'online', since: 0, source: 'status', mode: 'normal', ...o });

const fleet = new Map(
  [
    dev('site1/pump-10', { lastSeen: 30 }),
    dev('site1/pump-9', { mode: 'safe', lastSeen: 10 }),
    dev('site2/gate', { presence: 'offline', lastSeen: 20 }),
    dev('site2/fan', { crashCount: 2, firmware: '1.2.3' }),
  ].map((d) => [d.prefix, d]),
);
const base: ViewInput = { devices: fleet, search: '', filter: 'all', sort: 'name', groupByPrefix: false };
const prefixes = (v: Partial<ViewInput>) => computeRows({ ...base, ...v }).map((r) => (r.kind === 'device' ? r.prefix : `[${r.group} ${r.count}]`));

describe('device view', () => {
  it('sorts names naturally', () => {
    expect(prefixes({})).toEqual(['site1/pump-9', 'site1/pump-10', 'site2/fan', 'site2/gate']);
  });
  it('filters by presence, safe mode and crashes', () => {
    expect(prefixes({ filter: 'online' })).toEqual(['site1/pump-9', 'site1/pump-10', 'site2/fan']);
    expect(prefixes({ filter: 'offline' })).toEqual(['site2/gate']);
    expect(prefixes({ filter: 'safe' })).toEqual(['site1/pump-9']);
    expect(prefixes({ filter: 'crash' })).toEqual(['site2/fan']);
  });
  it('searches every word in prefix, versions and mode', () => {
    expect(prefixes({ search: 'PUMP safe' })).toEqual(['site1/pump-9']);
    expect(prefixes({ search: '1.2.3' })).toEqual(['site2/fan']);
  });
  it('puts problems first and sorts by last seen', () => {
    expect(prefixes({ sort: 'status' })).toEqual(['site2/gate', 'site1/pump-9', 'site2/fan', 'site1/pump-10']);
    expect(prefixes({ sort: 'lastSeen' })).toEqual(['site1/pump-10', 'site2/gate', 'site1/pump-9', 'site2/fan']);
  });
  it('groups by the first topic level with counts', () => {
    expect(prefixes({ groupByPrefix: true })).toEqual(['[site1 2]', 'site1/pump-9', 'site1/pump-10', '[site2 2]', 'site2/fan', 'site2/gate']);
  });
  it('returns the same array while the visible order is unchanged', () => {
    const select = rowsSelector();
    const first = select(base);
    // A status update that changes no sort key: new Map, same order.
    const updated = new Map(fleet).set('site2/fan', dev('site2/fan', { crashCount: 2, uptime: 99 }));
    expect(select({ ...base, devices: updated })).toBe(first);
    const grown = new Map(updated).set('site0/new', dev('site0/new'));
    expect(select({ ...base, devices: grown })).not.toBe(first);
  });
});

describe('device view at 10,000 devices', () => {
  it('re-sorts names only when membership changes and keeps the order after updates', () => {
    const big = new Map<string, DeviceState>();
    for (let i = 0; i < 10_000; i++) big.set(`s${i % 7}/d${(i * 7919) % 10_000}`, dev(`s${i % 7}/d${(i * 7919) % 10_000}`, { lastSeen: i }));
    const select = rowsSelector();
    const first = select({ ...base, devices: big });
    expect(first).toHaveLength(10_000);
    expect(first[0]).toEqual({ kind: 'device', prefix: 's0/d0' });
    const updated = new Map(big).set('s0/d0', dev('s0/d0', { lastSeen: 1e9 }));
    expect(select({ ...base, devices: updated })).toBe(first);
    const bySeen = select({ ...base, devices: updated, sort: 'lastSeen' });
    expect(bySeen[0]).toEqual({ kind: 'device', prefix: 's0/d0' });
  });

  it('keeps natural name order as devices join and leave, a few or many at a time', () => {
    const names = (n: number, from = 0) => Array.from({ length: n }, (_, i) => `site${(i + from) % 5}/Pump-${(i + from) * 37 % 1000}`);
    const fullSort = (m: ReadonlyMap<string, DeviceState>) => computeRows({ ...base, devices: new Map(m) }).map((r) => (r.kind === 'device' ? r.prefix : ''));
    const select = rowsSelector();
    let devices = new Map(names(600).map((p) => [p, dev(p)]));
    const steps: Array<(m: Map<string, DeviceState>) => void> = [
      (m) => m.set('site0/pump-5', dev('site0/pump-5')),
      (m) => m.set('a', dev('a')).set('zz/9', dev('zz/9')).set('site3/Pump-1', dev('site3/Pump-1')),
      (m) => m.delete('site0/pump-5'),
      (m) => {
        m.delete('a');
        m.set('site2/pump-2', dev('site2/pump-2'));
      },
      (m) => names(400, 600).forEach((p) => m.set(p, dev(p))),
      (m) => names(300).forEach((p) => m.delete(p)),
    ];
    for (const step of steps) {
      devices = new Map(devices);
      step(devices);
      expect(select({ ...base, devices }).map((r) => (r.kind === 'device' ? r.prefix : ''))).toEqual(fullSort(devices));
    }
  });
});

describe('device view updates', () => {
  it('moves a row when a field its view depends on changes', () => {
    const select = rowsSelector();
    const online = select({ ...base, filter: 'online' });
    expect(online.map((r) => (r.kind === 'device' ? r.prefix : ''))).toContain('site1/pump-10');
    const down = new Map(fleet).set('site1/pump-10', dev('site1/pump-10', { presence: 'offline', lastSeen: 30 }));
    const after = select({ ...base, filter: 'online', devices: down });
    expect(after.map((r) => (r.kind === 'device' ? r.prefix : ''))).not.toContain('site1/pump-10');
    const seen = new Map(down).set('site2/fan', dev('site2/fan', { crashCount: 2, firmware: '1.2.3', lastSeen: 99 }));
    const bySeen = select({ ...base, sort: 'lastSeen', devices: seen });
    expect(bySeen[0]).toEqual({ kind: 'device', prefix: 'site2/fan' });
  });
});

describe('the search box speaks the selector syntax', () => {
  const tagged = new Map(
    [
      dev('greenhouse/fan', { firmware: '2.4.1', tags: ['climate'] }),
      dev('greenhouse/pump', { firmware: '2.5.0', presence: 'offline' }),
      dev('lab/esp', { firmware: '2.5.0', kind: 'original' }),
    ].map((d) => [d.prefix, d]),
  );
  const pick = (search: string, o: Partial<ViewInput> = {}) =>
    computeRows({ ...base, devices: tagged, search, ...o }).map((r) => (r.kind === 'device' ? r.prefix : ''));

  it('filters by glob, firmware, state and kind', () => {
    expect(pick('greenhouse/*')).toEqual(['greenhouse/fan', 'greenhouse/pump']);
    expect(pick('fw<2.5.0')).toEqual(['greenhouse/fan']);
    expect(pick('greenhouse/* online')).toEqual(['greenhouse/fan']);
    expect(pick('outdated')).toEqual(['greenhouse/fan']);
    expect(pick('kind:original')).toEqual(['lab/esp']);
  });
  it('matches the tags a device reports and the tags the user gave it', () => {
    expect(pick('tag:climate')).toEqual(['greenhouse/fan']);
    expect(pick('tag:bench')).toEqual([]);
    expect(pick('tag:bench', { userTags: { 'lab/esp': ['bench'] } })).toEqual(['lab/esp']);
    expect(pick('bench', { userTags: { 'lab/esp': ['bench'] } })).toEqual(['lab/esp']);
  });
  it('combines with the presence filter buttons', () => {
    expect(pick('greenhouse/*', { filter: 'offline' })).toEqual(['greenhouse/pump']);
  });
  it('reports a mistake with where it is, and the list keeps the last search that parsed', () => {
    const p = parseSearch('online fw<two');
    expect(p.error?.at).toBe(10);
    expect(p.error?.length).toBe(3);
    const rows = rowsSelector();
    const view = (search: string) => rows({ ...base, devices: tagged, search }).map((r) => (r.kind === 'device' ? r.prefix : ''));
    expect(view('greenhouse/*')).toEqual(['greenhouse/fan', 'greenhouse/pump']);
    expect(view('greenhouse/* fw<')).toEqual(['greenhouse/fan', 'greenhouse/pump']);
    expect(view('greenhouse/* fw<2.5')).toEqual(['greenhouse/fan']);
  });
  it('keeps the same rows while typing does not change what the search means', () => {
    const rows = rowsSelector();
    const view = (search: string, o: Partial<ViewInput> = {}) => rows({ ...base, devices: tagged, search, ...o });
    const first = view('greenhouse/*');
    expect(view('greenhouse/* ')).toBe(first);
    expect(view('greenhouse/*  fw<')).toBe(first);
    // A different meaning, or a different view with the same search, is computed again.
    expect(view('greenhouse/* fw<2.5').map((r) => (r.kind === 'device' ? r.prefix : ''))).toEqual(['greenhouse/fan']);
    expect(view('greenhouse/* fw<2.5 ', { groupByPrefix: true })[0]).toEqual({ kind: 'group', group: 'greenhouse', count: 1 });
  });
  it('moves a row when a tag it is filtered by changes', () => {
    const rows = rowsSelector();
    const first = rows({ ...base, devices: tagged, search: 'tag:climate' });
    expect(first).toHaveLength(1);
    const retagged = new Map(tagged).set('greenhouse/fan', { ...tagged.get('greenhouse/fan')!, tags: ['other'] });
    expect(rows({ ...base, devices: retagged, search: 'tag:climate' })).toHaveLength(0);
  });
});
