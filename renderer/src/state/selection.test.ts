// Selecting devices in the list: ranges over what is shown, toggles and "select all matching",
// through the store the list and the overview charts share.
import { describe, expect, it } from 'vitest';
import type { Row } from './device-view';
import { countShown, rangeBetween, rowPrefixes } from './selection';
import { createAppStore } from './store';

const rows: Row[] = [
  { kind: 'group', group: 'a', count: 2 },
  { kind: 'device', prefix: 'a/1' },
  { kind: 'device', prefix: 'a/2' },
  { kind: 'group', group: 'b', count: 2 },
  { kind: 'device', prefix: 'b/1' },
  { kind: 'device', prefix: 'b/2' },
];

describe('selection', () => {
  it('takes a Shift-click range in list order, in either direction, skipping group headers', () => {
    expect(rangeBetween(rows, 'a/2', 'b/2')).toEqual(['a/2', 'b/1', 'b/2']);
    expect(rangeBetween(rows, 'b/2', 'a/1')).toEqual(['a/1', 'a/2', 'b/1', 'b/2']);
    expect(rangeBetween(rows, 'a/1', 'a/1')).toEqual(['a/1']);
  });
  it('starts the range at the row clicked when the anchor is not shown any more', () => {
    expect(rangeBetween(rows, 'gone/1', 'b/1')).toEqual(['b/1']);
    expect(rangeBetween(rows, null, 'b/1')).toEqual(['b/1']);
    expect(rangeBetween(rows, 'a/1', 'gone/1')).toEqual([]);
  });
  it('counts the selected devices still shown', () => {
    expect(countShown(new Set(['a/1', 'b/2', 'gone/1']), rows)).toBe(2);
    expect(rowPrefixes(rows)).toEqual(['a/1', 'a/2', 'b/1', 'b/2']);
  });
  it('toggles, adds many, replaces and clears in the store, each time with a new set', () => {
    const store = createAppStore();
    const s = () => store.getState();
    s().toggleSelected('a/1');
    expect([...s().selected]).toEqual(['a/1']);
    expect(s().anchor).toBe('a/1');
    const before = s().selected;
    s().selectMany(['a/2', 'b/1']);
    expect(s().selected).not.toBe(before);
    expect([...s().selected].sort()).toEqual(['a/1', 'a/2', 'b/1']);
    s().toggleSelected('a/1');
    expect(s().selected.has('a/1')).toBe(false);
    s().selectMany(['a/2'], false);
    expect([...s().selected]).toEqual(['b/1']);
    s().setSelected(['x/1', 'x/2']);
    expect([...s().selected]).toEqual(['x/1', 'x/2']);
    s().clearSelected();
    expect(s().selected.size).toBe(0);
  });
});

describe('fleet settings in the store', () => {
  const settings = (profile: string, tags: Record<string, string[]> = {}) => ({ profile, tags, views: [] });
  it('keeps the same user tags object while the tags do not change, so the list keeps its rows', () => {
    const store = createAppStore();
    store.getState().setFleetSettings(settings('home', { 'a/1': ['x'] }));
    const tags = store.getState().userTags;
    store.getState().setFleetSettings(settings('home', { 'a/1': ['x'] }));
    expect(store.getState().userTags).toBe(tags);
    store.getState().setFleetSettings(settings('home', { 'a/1': ['x', 'y'] }));
    expect(store.getState().userTags).toEqual({ 'a/1': ['x', 'y'] });
  });
  it('drops the selection and the job tables when the broker profile changes', () => {
    const store = createAppStore();
    store.getState().setFleetSettings(settings('home'));
    store.getState().setSelected(['a/1']);
    store.getState().applyJob({ id: 'j1', kind: 'eval', title: '1', created: 0, state: 'done', total: 1, counts: {} }, []);
    store.getState().setFleetSettings(settings('home'));
    expect(store.getState().selected.size).toBe(1);
    store.getState().setFleetSettings(settings('work'));
    expect(store.getState().selected.size).toBe(0);
    expect(store.getState().jobs.size).toBe(0);
  });
});
