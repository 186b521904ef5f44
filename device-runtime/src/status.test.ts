// Free memory in the status: a simulated board reports figures of its own size (an ESP32's
// 320 KiB), which move as a MicroPython heap's do; a runtime on a real host reports the host's.
import os from 'node:os';
import { describe, expect, it } from 'vitest';
import { hostFreeMem, simulatedFreeMem } from './status';

const ESP32_RAM = 320 * 1024;

describe('free memory', () => {
  it('stays within a simulated board’s RAM, with the firmware’s share always taken', () => {
    for (let t = 0; t < 300_000; t += 997) {
      const free = simulatedFreeMem(ESP32_RAM, t);
      expect(free).toBeGreaterThan(ESP32_RAM * 0.4);
      expect(free).toBeLessThan(ESP32_RAM * 0.67);
      expect(free % 16).toBe(0);
    }
  });

  it('moves: garbage builds up with uptime until a collection frees it', () => {
    const none = () => 0;
    const early = simulatedFreeMem(ESP32_RAM, 1_000, none);
    const later = simulatedFreeMem(ESP32_RAM, 50_000, none);
    const collected = simulatedFreeMem(ESP32_RAM, 62_000, none);
    expect(later).toBeLessThan(early - 40_000);
    expect(collected).toBeGreaterThan(later + 40_000);
  });

  it('scales to 4 MiB of PSRAM', () => {
    const free = simulatedFreeMem(4 * 1024 * 1024, 10_000);
    expect(free).toBeGreaterThan(1.6 * 1024 * 1024);
    expect(free).toBeLessThan(2.8 * 1024 * 1024);
  });

  it('on a real host, is never more than the OS has free', () => {
    expect(hostFreeMem()).toBeLessThanOrEqual(os.freemem() * 1.05);
    expect(hostFreeMem()).toBeGreaterThan(0);
  });
});
