// Following a device through the reboot after an OTA: back only once it came online again after
// the reset, with the new slot; a rollback is named; original boards count as back once heard from.
import { describe, expect, it } from 'vitest';
import type { DeviceState } from '../../../../protocol/src';
import { rebootProgress } from './ota-session';

const w = { sentAt: 10_000, activeBefore: 'a', versionBefore: '1.0.0', expected: '2.0.0' };
const dev = (p: Partial<DeviceState>): DeviceState => ({ prefix: 'p', kind: 'mqboard', presence: 'online', since: 0, source: 'status', ...p });

describe('reboot progress', () => {
  it('is not back while the status predates the reset or the device is offline', () => {
    expect(rebootProgress(dev({ since: 5_000 }), w).back).toBe(false);
    expect(rebootProgress(dev({ presence: 'offline', since: 11_000 }), w).back).toBe(false);
    expect(rebootProgress(undefined, w).back).toBe(false);
  });

  it('reports the new version on the other slot, on trial', () => {
    const d = dev({ since: 12_000, firmware: '2.0.0', bootReason: 'ota', ota: { active: 'b', confirmed: false, slots: [] } });
    expect(rebootProgress(d, w)).toEqual({ back: true, version: '2.0.0', active: 'b', confirmed: false, bootReason: 'ota', rolledBack: false });
  });

  it('names a rollback: the same slot as before, or the boot reason', () => {
    expect(rebootProgress(dev({ since: 12_000, firmware: '1.0.0', ota: { active: 'a', confirmed: true, slots: [] } }), w).rolledBack).toBe(true);
    expect(rebootProgress(dev({ since: 12_000, bootReason: 'rollback' }), w).rolledBack).toBe(true);
  });

  it('counts an original board as back once it is heard from after the reset', () => {
    const orig = (lastSeen: number) => dev({ kind: 'original', source: 'watchdog', since: 0, lastSeen });
    expect(rebootProgress(orig(10_500), w).back).toBe(false);
    expect(rebootProgress(orig(12_000), w).back).toBe(true);
  });
});
