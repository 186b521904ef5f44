import { describe, expect, it } from 'vitest';
import { readProbe } from './original-probe';

describe("reading an original board's answer to the probe", () => {
  it('takes the build from os.uname().version, dates the boot from ticks_ms, and reads the all-OK', () => {
    expect(readProbe('v1.12-weather-1-8-g251c8f5a3 on 2020-05-23\r\n61000\r\nTrue\r\n', 100_000, 100_020)).toEqual({ firmware: 'v1.12-weather-1-8-g251c8f5a3', bootedAt: 39_010, confirmed: true });
    expect(readProbe('v1.13-mqboard\n5\nFalse\n', 10, 10)).toEqual({ firmware: 'v1.13-mqboard', bootedAt: 5, confirmed: false });
  });

  it('leaves the all-OK unknown on a board without the watchdog module', () => {
    expect(readProbe('v1.13-mqboard on 2021-01-01\n5\nNone\n', 10, 10)).toEqual({ firmware: 'v1.13-mqboard', bootedAt: 5 });
  });

  it('refuses anything else in words, the untrusted text never echoed', () => {
    expect(() => readProbe('v1.13\n5\n', 0, 0)).toThrow('three lines');
    expect(() => readProbe('\u001b]52;c;cm0gLXJmIH4=\u0007\n5\nTrue\n', 0, 0)).toThrow('not a build name');
    expect(() => readProbe('v1.13 (x)\n5\nTrue\n', 0, 0)).toThrow('not a build name');
    expect(() => readProbe('v1.13\n-5\nTrue\n', 0, 0)).toThrow('ticks that are not a number');
    expect(() => readProbe('v1.13\n5\nyes\n', 0, 0)).toThrow('not True, False or None');
    expect(() => readProbe(`v1.13\n5\nTrue\n${'x'.repeat(600)}`, 0, 0)).toThrow('more than it should');
  });
});
