// The two boot-time state machines: RTC memory picks the mode, the OTA state picks the slot.
import { describe, expect, it } from 'vitest';
import { confirmSlot, otaBoot, type OtaState } from './ota-slots';
import { decideBoot, type RtcState } from './rtc';

const rtc = (s: Partial<RtcState> = {}): RtcState => ({ bootCount: 0, failedBoots: 0, resetReason: null, request: null, poison: [], ...s });
const meta = (version: string) => ({ sha256: 'a'.repeat(64), size: 1, version, written: 0 });
const ota = (s: Partial<OtaState> = {}): OtaState => ({
  active: 'a',
  pending: null,
  confirmed: true,
  previous: null,
  trialBoots: 0,
  slots: { a: meta('1'), b: null },
  ...s,
});

describe('boot mode from RTC memory', () => {
  it('boots normal after a power-on (blank memory), as a cold boot', () => {
    const { decision, next } = decideBoot(rtc(), 3, 'normal');
    expect(decision).toMatchObject({ mode: 'normal', reason: 'cold', bootCount: 1 });
    expect(next).toMatchObject({ failedBoots: 1, resetReason: null, request: null });
  });

  it('boots safe once maxFailedBoots boots in a row did not reach all-OK', () => {
    expect(decideBoot(rtc({ failedBoots: 2, resetReason: 'crash' }), 3, 'normal').decision).toMatchObject({ mode: 'normal', reason: 'crash' });
    expect(decideBoot(rtc({ failedBoots: 3, resetReason: 'watchdog' }), 3, 'normal').decision).toMatchObject({ mode: 'safe', reason: 'watchdog' });
  });

  it('honours an explicit request from reset once, over the failure count', () => {
    const { decision, next } = decideBoot(rtc({ failedBoots: 5, request: 'normal', resetReason: 'command' }), 3, 'normal');
    expect(decision.mode).toBe('normal');
    expect(next.request).toBeNull();
    expect(decideBoot(rtc({ request: 'safe' }), 3, 'normal').decision.mode).toBe('safe');
  });

  it('hands poisoned command ids to exactly one boot', () => {
    const { decision, next } = decideBoot(rtc({ poison: ['abc'] }), 3, 'normal');
    expect(decision.poison).toEqual(['abc']);
    expect(next.poison).toEqual([]);
  });
});

describe('OTA slot at boot', () => {
  it('switches to a pending slot, unconfirmed', () => {
    const r = otaBoot(ota({ pending: 'b', slots: { a: meta('1'), b: meta('2') } }));
    expect(r.action).toBe('switched');
    expect(r.state).toMatchObject({ active: 'b', previous: 'a', pending: null, confirmed: false, trialBoots: 1 });
  });

  it('rolls back when the new slot boots a second time without being confirmed', () => {
    const first = otaBoot(ota({ pending: 'b', slots: { a: meta('1'), b: meta('2') } })).state;
    const r = otaBoot(first);
    expect(r.action).toBe('rolled-back');
    expect(r.state).toMatchObject({ active: 'a', confirmed: true, previous: null });
  });

  it('keeps a confirmed slot', () => {
    const first = otaBoot(ota({ pending: 'b', slots: { a: meta('1'), b: meta('2') } })).state;
    const r = otaBoot(confirmSlot(first));
    expect(r.action).toBe('none');
    expect(r.state.active).toBe('b');
  });

  it('ignores a pending marker that names an empty slot', () => {
    expect(otaBoot(ota({ pending: 'b' })).action).toBe('none');
  });
});
