// The Rollouts view's arithmetic: the planner's form checked against the contract before it is
// sent, wave progress, the device table's order, and the top bar's badge.
import { describe, expect, it } from 'vitest';
import type { DeviceState, RolloutDevice, RolloutSummary } from '../../../protocol/src';
import { DEFAULT_DRAFT, countsText, deviceRows, draftInput, kindFit, kindFitText, liveRollouts, planFitText, waveProgress } from './rollout-view';

const image = { from: 'example', name: 'good' } as const;
const dev = (prefix: string, wave: number, state: RolloutDevice['state']): RolloutDevice => ({ prefix, wave, state, checks: [] });

describe('which devices an image fits', () => {
  const kinds = new Map<string, DeviceState['kind']>([
    ['r/1', 'mqboard'],
    ['r/2', 'mqboard'],
    ['o/1', 'original'],
    ['u/1', 'unknown'],
  ]);
  const kindOf = (p: string) => kinds.get(p);
  it('counts bundles for our runtime and firmware for original boards; a device of unknown kind fits either, as the host plans it', () => {
    const all = [...kinds.keys(), 'gone/1'];
    expect(kindFit('bundle', all, kindOf)).toEqual({ fit: 4, total: 5 });
    expect(kindFit('firmware', all, kindOf)).toEqual({ fit: 3, total: 5 });
    expect(kindFit('firmware', ['r/1', 'r/2'], kindOf)).toEqual({ fit: 0, total: 2 });
  });
  it('says it in words', () => {
    expect(kindFitText('firmware', { fit: 1, total: 9 })).toBe('for original MQBoard boards: 1 of the 9 devices');
    expect(kindFitText('bundle', { fit: 3, total: 3 })).toBe('for devices running the MQBoard runtime: all 3 devices');
    expect(kindFitText('firmware', { fit: 1, total: 1 })).toBe('for original MQBoard boards: the device');
    expect(kindFitText('bundle', undefined)).toBe('for devices running the MQBoard runtime');
    expect(kindFitText('bundle', { fit: 0, total: 1 })).toBe('for devices running the MQBoard runtime: not the device');
    expect(kindFitText('bundle', { fit: 0, total: 4 })).toBe('for devices running the MQBoard runtime: none of the 4 devices');
    expect(planFitText('firmware', { fit: 1, total: 9 })).toBe(
      'MicroPython firmware, for original MQBoard boards: 1 of the 9 chosen devices can take it; the other 8 take app bundles and are skipped.',
    );
    expect(planFitText('bundle', { fit: 2, total: 3 })).toBe(
      'App bundle, for devices running the MQBoard runtime: 2 of the 3 chosen devices can take it; the other takes MicroPython firmware and is skipped.',
    );
    expect(planFitText('firmware', { fit: 1, total: 1 })).toBe('MicroPython firmware, for original MQBoard boards: the chosen device can take it.');
  });
});

describe('the planner form', () => {
  it('becomes a RolloutInput with its numbers read', () => {
    const r = draftInput({ ...DEFAULT_DRAFT, concurrency: '4', soakS: '0', maxFailures: '2', waves: '1,50%,100%' }, image, ['a/1', 'a/2']);
    expect(r).toEqual({
      input: expect.objectContaining({ prefixes: ['a/1', 'a/2'], concurrency: 4, soakS: 0, maxFailures: 2, waves: '1,50%,100%', onlyOutdated: true, offline: 'skip', image }),
    });
  });
  it('keeps the selector only when the devices came from one', () => {
    const picked = draftInput({ ...DEFAULT_DRAFT, selector: 'tag:lab' }, image, ['a/1']);
    const typed = draftInput({ ...DEFAULT_DRAFT, target: 'selector', selector: 'tag:lab' }, image, ['a/1']);
    expect('input' in picked && picked.input.selector).toBe(undefined);
    expect('input' in typed && typed.input.selector).toBe('tag:lab');
  });
  it('names the field of a mistake instead of sending it', () => {
    expect(draftInput({ ...DEFAULT_DRAFT, concurrency: '10 s' }, image, ['a/1'])).toEqual({ error: 'Concurrency: a number, not “10 s”' });
    expect(draftInput({ ...DEFAULT_DRAFT, concurrency: '0' }, image, ['a/1'])).toEqual({ error: expect.stringMatching(/^Concurrency: /) });
    expect(draftInput({ ...DEFAULT_DRAFT, waves: '1, half' }, image, ['a/1'])).toEqual({ error: 'Waves: waves like 1,10%,50%,100%' });
    expect(draftInput({ ...DEFAULT_DRAFT, onlineWithinS: '1' }, image, ['a/1'])).toEqual({ error: expect.stringMatching(/^Back online within: /) });
    expect(draftInput(DEFAULT_DRAFT, image, [])).toEqual({ error: expect.stringMatching(/^No devices/) });
  });
});

describe('progress', () => {
  const devices = [dev('a', 0, 'rolled-back'), dev('b', 1, 'updated'), dev('c', 1, 'soaking'), dev('d', 1, 'pending'), dev('e', 1, 'skipped'), dev('f', 1, 'failed')];
  it('counts one wave’s devices by outcome', () => {
    expect(waveProgress(devices, 0)).toEqual({ total: 1, updated: 0, failed: 1, active: 0, skipped: 0, pending: 0 });
    expect(waveProgress(devices, 1)).toEqual({ total: 5, updated: 1, failed: 1, active: 1, skipped: 1, pending: 1 });
  });
  it('lists devices by wave, failures and work in progress first, at most the limit', () => {
    expect(deviceRows(devices, 'all', 10).rows.map((d) => d.prefix)).toEqual(['a', 'f', 'c', 'd', 'b', 'e']);
    expect(deviceRows(devices, 'problems', 10).rows.map((d) => d.prefix)).toEqual(['a', 'f']);
    expect(deviceRows(devices, 'active', 10).rows.map((d) => d.prefix)).toEqual(['c']);
    expect(deviceRows(devices, 'all', 2)).toEqual({ rows: [devices[0], devices[5]], matched: 6 });
  });
  it('says what happened in words, outcomes first', () => {
    expect(countsText({ pending: 6, updated: 3, 'rolled-back': 1, skipped: 0 })).toBe('3 updated · 1 rolled back · 6 pending');
  });
  it('badges rollouts still running or paused', () => {
    const r = (state: RolloutSummary['state']) => ({ state }) as RolloutSummary;
    expect(liveRollouts([r('running'), r('paused'), r('done'), r('aborted')])).toEqual({ live: 2, paused: 1 });
  });
});
