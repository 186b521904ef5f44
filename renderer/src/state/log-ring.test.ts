import { describe, expect, it } from 'vitest';
import { createLogRing } from './log-ring';

const entry = (prefix: string, text: string) => ({ prefix, received: 0, line: { level: 'I' as const, time: '1', name: 'app', text } });

describe('log ring', () => {
  it('keeps the newest lines per device and bumps only that device version', () => {
    const ring = createLogRing(3);
    let notified = 0;
    ring.subscribe(() => notified++);
    ring.push(['1', '2', '3', '4'].map((t) => entry('a', t)).concat(entry('b', 'x')));
    expect(ring.lines('a').map((e) => e.line.text)).toEqual(['2', '3', '4']);
    expect(ring.version('a')).toBe(4);
    expect(ring.version('b')).toBe(1);
    expect(ring.version('c')).toBe(0);
    expect(notified).toBe(1);
  });
});
