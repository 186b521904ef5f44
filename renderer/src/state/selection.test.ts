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
