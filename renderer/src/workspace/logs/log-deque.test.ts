import { describe, expect, it } from 'vitest';
import { LogDeque } from './log-deque';

const all = <T,>(d: LogDeque<T>) => Array.from({ length: d.length }, (_, i) => d.get(i));

describe('LogDeque', () => {
  it('appends and evicts the oldest beyond capacity', () => {
    const d = new LogDeque<number>(3);
    expect(d.pushBack([1, 2])).toBe(0);
    expect(d.pushBack([3, 4, 5])).toBe(2);
    expect(all(d)).toEqual([3, 4, 5]);
    expect(d.first()).toBe(3);
    expect(d.last()).toBe(5);
  });

  it('prepends older items only while there is room, keeping the newest of them', () => {
    const d = new LogDeque<number>(5);
    d.pushBack([10, 11]);
    expect(d.pushFront([5, 6, 7, 8, 9])).toBe(3);
    expect(all(d)).toEqual([7, 8, 9, 10, 11]);
    expect(d.pushFront([1])).toBe(0);
  });

  it('wraps around many times and holds 100,000 items', () => {
    const d = new LogDeque<number>(100_000);
    for (let k = 0; k < 3; k++) d.pushBack(Array.from({ length: 70_000 }, (_, i) => k * 70_000 + i));
    expect(d.length).toBe(100_000);
    expect(d.get(0)).toBe(110_000);
    expect(d.get(99_999)).toBe(209_999);
    expect(d.get(100_000)).toBeUndefined();
  });
});
