// The facts an original board's own log lines state: its firmware build at boot, its boot
// partition, and the watchdog's all-OK that confirms the running firmware.
import { describe, expect, it } from 'vitest';
import { decodeLogLine, type LogLine } from '../../../protocol/src';
import { mayStateBootFact, readBootLogLine } from './original-boot-log';

const line = (raw: string): LogLine => {
  const d = decodeLogLine(new TextEncoder().encode(raw));
  if (!d.ok) throw new Error(d.error);
  return d.value;
};

describe('an original board boot log', () => {
  it('names the firmware build in the greeting of main.py', () => {
    expect(readBootLogLine(line('W 1401     main: MicroPython 1.12.0 (v1.12-weather-1-8-g251c8f5a3 on 2020-05-23)'))).toEqual({ kind: 'greeting', firmware: 'v1.12-weather-1-8-g251c8f5a3' });
    expect(readBootLogLine(line('W 12     main: MicroPython 1.13.0 (v1.13-mqboard on 2020-05-23, simulated in CPython)'))).toEqual({ kind: 'greeting', firmware: 'v1.13-mqboard' });
  });

  it('states the boot partition and the all-OK, in normal and in safe mode', () => {
    expect(readBootLogLine(line('W 1423     main: Boot partition: ota_1'))).toEqual({ kind: 'partition', partition: 'ota_1' });
    expect(readBootLogLine(line('W 190000 watchdog: Next reset: normal boot'))).toEqual({ kind: 'all-ok' });
    expect(readBootLogLine(line('C 190000 watchdog: Switching to NORMAL MODE via reset'))).toEqual({ kind: 'all-ok' });
  });

  it('takes nothing from other loggers, levels or text, nor a build that is not plain text', () => {
    for (const raw of [
      'I 1401     main: MicroPython 1.12.0 (v1.12 on 2020-05-23)',
      'W 1401   myapp: MicroPython 1.12.0 (v1.12 on 2020-05-23)',
      'W 1401     main: MicroPython 1.12.0 (v1.12 evil text)',
      'W 1401     main: MicroPython 1.12.0 (\u001b[31mred on 2020)',
      `W 1401     main: MicroPython 1.12.0 (${'x'.repeat(65)} on 2020)`,
      'W 1401     main: Boot partition: ../../etc',
      'W 1401 watchdog: Next reset: normal boot, says a module',
      'W 1401    other: Next reset: normal boot',
    ]) expect(readBootLogLine(line(raw)), raw).toBeUndefined();
  });

  it('looks at a raw line only when it is a warning or critical one', () => {
    const enc = (s: string) => new TextEncoder().encode(s);
    expect(mayStateBootFact(enc('W 1 main: x'))).toBe(true);
    expect(mayStateBootFact(enc('C 1 watchdog: x'))).toBe(true);
    expect(mayStateBootFact(enc('I 1 main: x'))).toBe(false);
    expect(mayStateBootFact(new Uint8Array(0))).toBe(false);
  });
});
