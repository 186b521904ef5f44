// The Rollouts view's store: the selection bar opens the planner with its devices, and the host's
// rollout events merge into what the view shows, device by device.
import { beforeEach, describe, expect, it } from 'vitest';
import type { RolloutDevice, RolloutSummary } from '../../../protocol/src';
import { applyRolloutEvent, forgetRollout } from './rollouts-feed';
import { DEFAULT_DRAFT } from './rollout-view';
import { openPlanner, rollouts } from './rollouts-state';

const summary = (id: string, state: RolloutSummary['state'] = 'running'): RolloutSummary => ({
  id,
  name: id,
  profile: 'demo',
  created: 1,
  state,
  image: { name: 'img', size: 1, sha256: 'x', kind: 'bundle', version: '2.5.0' },
  options: { waves: '1,100%', concurrency: 10, onlyOutdated: true, offline: 'skip', canaryMaxFailures: 0, maxFailurePercent: 10, onlineWithinS: 120, soakS: 30 },
  waves: [],
  wave: 0,
  counts: {},
});
const dev = (prefix: string, state: RolloutDevice['state']): RolloutDevice => ({ prefix, wave: 0, state, checks: [] });

beforeEach(() => rollouts.setState({ shown: false, page: { kind: 'history' }, seed: null, draft: DEFAULT_DRAFT, rollouts: new Map(), devices: new Map() }));

describe('the rollouts store', () => {
  it('opens the planner on the devices the selection bar hands over', () => {
    openPlanner(['a/1', 'a/2'], 'tag:a');
    const s = rollouts.getState();
    expect(s).toMatchObject({ shown: true, page: { kind: 'plan' }, seed: { prefixes: ['a/1', 'a/2'], selector: 'tag:a', seq: 1 } });
    expect(s.draft.target).toBe('selection');
    openPlanner([], 'fw<2');
    expect(rollouts.getState()).toMatchObject({ seed: { prefixes: [], seq: 2 }, draft: { target: 'selector', selector: 'fw<2' } });
  });
  it('merges a rollout’s events device by device, keeping the ones that did not change', () => {
    applyRolloutEvent(summary('r1'), [dev('a', 'pending'), dev('b', 'pending')]);
    applyRolloutEvent(summary('r1', 'paused'), [dev('a', 'rolled-back')]);
    const s = rollouts.getState();
    expect(s.rollouts.get('r1')?.state).toBe('paused');
    expect([...s.devices.get('r1')!.values()].map((d) => `${d.prefix}:${d.state}`)).toEqual(['a:rolled-back', 'b:pending']);
    forgetRollout('r1');
    expect(rollouts.getState().rollouts.size + rollouts.getState().devices.size).toBe(0);
  });
});
