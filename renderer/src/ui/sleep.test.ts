// A sleeping board's line in the list and Details.
import { describe, expect, it } from 'vitest';
import type { DeviceState } from '../../../protocol/src';
import { isAsleep, sleepText } from './sleep';

const dev = (o: Partial<DeviceState>): DeviceState => ({ prefix: 'field/probe', kind: 'mqboard', presence: 'offline', since: 0, source: 'status', ...o });

describe('a sleeping board', () => {
  it('is one that went offline saying it would sleep, not one that was lost or reset', () => {
    expect(isAsleep(dev({ offlineReason: 'sleep', wake: 1 }))).toBe(true);
    expect(isAsleep(dev({ offlineReason: 'lost' }))).toBe(false);
    expect(isAsleep(dev({ presence: 'online', offlineReason: 'sleep' }))).toBe(false);
  });

  it('counts down to its next wake in whole seconds, rounded up, then minutes', () => {
    expect(sleepText(40_000, 0)).toBe('asleep · next wake in ~40 s');
    expect(sleepText(40_000, 39_500)).toBe('asleep · next wake in ~1 s');
    expect(sleepText(600_000, 0)).toBe('asleep · next wake in ~10 min');
  });

  it('says the wake is overdue once its time has passed, and only asleep without one', () => {
    expect(sleepText(40_000, 40_000)).toBe('asleep · wake overdue');
    expect(sleepText(40_000, 99_000)).toBe('asleep · wake overdue');
    expect(sleepText(undefined, 0)).toBe('asleep');
  });
});
