// What the list and Details say about a board that sleeps between wakes (a battery board that
// turns its radio off): asleep, and roughly when it should be back.
import type { DeviceState } from '../../../protocol/src';

/** Offline on purpose: the device said it was going to sleep. */
export const isAsleep = (d: DeviceState) => d.presence === 'offline' && d.offlineReason === 'sleep';

/**
 * "asleep · next wake in ~12 s", or "asleep · wake overdue" once the time has passed. The wake
 * time is by the device's clock, so it is a hint: shown approximately, never relied on.
 */
export function sleepText(wake: number | undefined, now: number): string {
  if (wake === undefined || !Number.isFinite(wake)) return 'asleep';
  const s = Math.ceil((wake - now) / 1000);
  if (s <= 0) return 'asleep · wake overdue';
  return `asleep · next wake in ~${s < 120 ? `${s} s` : `${Math.round(s / 60)} min`}`;
}
