import { describe, expect, it } from 'vitest';
import { utf8, type Level } from '../../protocol/src';
import { createLogBuffer } from './log-buffer';

const line = (level: Level, text: string) => ({ level, bytes: utf8(`${level} 0 test: ${text}`) });
const drain = (b: ReturnType<typeof createLogBuffer>) => {
  const out: string[] = [];
  for (let l = b.shift(); l; l = b.shift()) out.push(new TextDecoder().decode(l.bytes));
  return out;
};

describe('log buffer while offline', () => {
  it('keeps lines in order within the budget', () => {
    const b = createLogBuffer(1000);
    ['a', 'b', 'c'].forEach((t) => b.push(line('I', t)));
    expect(drain(b)).toEqual(['I 0 test: a', 'I 0 test: b', 'I 0 test: c']);
    expect(b.takeDropped()).toBe(0);
  });

  it('drops the least severe lines first, oldest first among equals', () => {
    const b = createLogBuffer(4 * 12); // room for four 12-byte lines
    b.push(line('D', 'd1'));
    b.push(line('W', 'w1'));
    b.push(line('I', 'i1'));
    b.push(line('E', 'e1'));
    b.push(line('I', 'i2')); // over budget: d1 goes
    b.push(line('C', 'c1')); // over budget: i1 goes (oldest info)
    expect(drain(b)).toEqual(['W 0 test: w1', 'E 0 test: e1', 'I 0 test: i2', 'C 0 test: c1']);
    expect(b.takeDropped()).toBe(2);
  });

  it('drops the oldest warnings last, when nothing less severe is left', () => {
    const b = createLogBuffer(2 * 12);
    b.push(line('W', 'w1'));
    b.push(line('W', 'w2'));
    b.push(line('W', 'w3'));
    expect(drain(b)).toEqual(['W 0 test: w2', 'W 0 test: w3']);
  });

  it('shrinks to a smaller budget by the same rule', () => {
    const b = createLogBuffer(100);
    b.push(line('I', 'i1'));
    b.push(line('E', 'e1'));
    b.setBudget(12);
    expect(drain(b)).toEqual(['E 0 test: e1']);
  });
});
