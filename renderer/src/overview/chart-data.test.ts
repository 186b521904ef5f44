// The overview's charts draw aggregates: a bar per firmware version, the rest folded into one.
import { describe, expect, it } from 'vitest';
import type { DeviceState } from '../../../protocol/src';
import { crashSeries, devicesOfBar, firmwareBars, onlineSeries, OTHER_FW, shortFirmware, UNKNOWN_FW } from './chart-data';

const dev = (prefix: string, firmware?: string): DeviceState => ({ prefix, kind: 'mqboard', presence: 'online', since: 0, source: 'status', firmware });

describe('firmware bars', () => {
  const fleet = [dev('a', '2.10.0'), dev('b', '2.9.1'), dev('c', '2.10.0'), dev('d'), dev('e', 'custom build'), dev('f', 'v2.9.1-rc.1')];
  it('counts devices per firmware, oldest version first, unreadable and unknown last', () => {
    expect(firmwareBars(fleet)).toEqual({ labels: ['v2.9.1-rc.1', '2.9.1', '2.10.0', 'custom build', UNKNOWN_FW], counts: [1, 1, 2, 1, 1], other: new Set() });
  });
  it('keeps the most common versions and folds the rest into one bar', () => {
    const bars = firmwareBars(fleet, 3);
    // Ties go by name, so "(unknown)" is kept before "2.9.1".
    expect(bars.labels).toEqual(['2.10.0', UNKNOWN_FW, OTHER_FW]);
    expect(bars.counts).toEqual([2, 1, 3]);
    expect(devicesOfBar(fleet, bars, 2)).toEqual(['b', 'e', 'f']);
    expect(devicesOfBar(fleet, bars, 0)).toEqual(['a', 'c']);
    expect(devicesOfBar(fleet, bars, 1)).toEqual(['d']);
    expect(devicesOfBar(fleet, bars, 9)).toEqual([]);
  });
  it('stays one pass over a large fleet with a handful of bars', () => {
    const many = Array.from({ length: 10_000 }, (_, i) => dev(`f/${i}`, `1.${i % 40}.0`));
    const bars = firmwareBars(many);
    expect(bars.labels).toHaveLength(10);
    expect(bars.counts.reduce((a, b) => a + b, 0)).toBe(10_000);
  });
  it('shortens long firmware strings to the version inside', () => {
    expect(shortFirmware('esp32-20230426-v1.20.0')).toBe('v1.20.0');
    expect(shortFirmware('2.5.0')).toBe('2.5.0');
    expect(shortFirmware('a very long build name')).toBe('a very long b…');
  });
});

describe('history series', () => {
  const h = { online: [{ t: 1000, online: 3, total: 4 }, { t: 2000, online: 4, total: 4 }], crashesPerDay: [{ day: '2026-12-02', count: 0 }, { day: '2026-12-03', count: 2 }] };
  it('puts online devices on a time axis in seconds', () => {
    expect(onlineSeries(h)).toEqual([[1, 2], [3, 4], [4, 4]]);
  });
  it('ends the online line at the list’s count now', () => {
    expect(onlineSeries(h, { t: 1500, online: 9, total: 9 })).toEqual([[1, 1.5], [3, 9], [4, 9]]);
    expect(onlineSeries(h, { t: 3000, online: 9, total: 10 })).toEqual([[1, 2, 3], [3, 4, 9], [4, 4, 10]]);
  });
  it('labels crash days by month and day', () => {
    expect(crashSeries(h)).toEqual({ labels: ['12-02', '12-03'], counts: [0, 2] });
  });
});
