import { describe, expect, it } from 'vitest';
import { IdHeap } from './id-heap';

describe('IdHeap', () => {
  it('pops in key order, largest first for a max-heap', () => {
    const h = new IdHeap<number>((a, b) => a > b);
    const xs = [5, 1, 9, 3, 7, 2, 8, 2];
    for (const x of xs) h.push(x);
    const out: number[] = [];
    while (h.size) out.push(h.pop()!);
    expect(out).toEqual([...xs].sort((a, b) => b - a));
    expect(h.pop()).toBeUndefined();
  });

  it('keeps order when pushes and pops interleave', () => {
    const h = new IdHeap<number>((a, b) => a < b);
    h.push(4);
    h.push(2);
    expect(h.pop()).toBe(2);
    h.push(1);
    h.push(3);
    expect([h.pop(), h.pop(), h.pop()]).toEqual([1, 3, 4]);
  });
});
