// Whether the Rollouts view is shown in place of the device workspace, and what the planner
// starts from. Its own tiny store like the fleet log view's: it is UI state of this feature only.
// The live rollouts themselves (summaries and devices from the host's `rollouts` stream) are kept
// here too, so the top bar's badge and the view read the same data.
import { createStore } from 'zustand/vanilla';
import { useStore } from 'zustand';
import type { RolloutDevice, RolloutSummary } from '../../../protocol/src/bridge-rollouts';
import { DEFAULT_DRAFT, type Draft } from './rollout-view';

/** What the planner is seeded with: the selection bar's devices or a selector. */
export interface PlannerSeed {
  prefixes: readonly string[];
  selector?: string;
  /** Bumped on every openPlanner so the planner notices a new seed even when equal. */
  seq: number;
}

export type RolloutsPage = { kind: 'plan' } | { kind: 'rollout'; id: string } | { kind: 'history' };

export interface RolloutsState {
  shown: boolean;
  page: RolloutsPage;
  seed: PlannerSeed | null;
  /** The planner's form, kept while the view shows a rollout or is closed. */
  draft: Draft;
  /** The image: one of the demo's example bundles by name, or a local file (staged when sent). */
  image: { from: 'example'; name: string } | { from: 'file'; file: File } | null;
  /** Rollouts on this broker by id (summaries), newest first when listed. */
  rollouts: ReadonlyMap<string, RolloutSummary>;
  /** Devices of the rollouts whose devices were fetched or streamed, by rollout id then prefix. */
  devices: ReadonlyMap<string, ReadonlyMap<string, RolloutDevice>>;
  /** Why the list of rollouts could not be loaded (e.g. a host without rollouts), if it could not. */
  listError: string | null;
}

export const rollouts = createStore<RolloutsState>()(() => ({
  shown: false,
  page: { kind: 'plan' },
  seed: null,
  draft: DEFAULT_DRAFT,
  image: null,
  rollouts: new Map(),
  devices: new Map(),
  listError: null,
}));

export const showRollouts = (shown: boolean) => rollouts.setState({ shown });

/** Opens the Rollouts view's planner for these devices (the selection bar's "Roll out…"). */
export function openPlanner(prefixes: readonly string[], selector?: string): void {
  rollouts.setState((s) => ({
    shown: true,
    page: { kind: 'plan' },
    seed: { prefixes: [...prefixes], selector, seq: (s.seed?.seq ?? 0) + 1 },
    draft: { ...s.draft, target: prefixes.length === 0 && selector ? 'selector' : 'selection', selector: selector ?? s.draft.selector },
  }));
}

export const setDraft = (patch: Partial<Draft>) => rollouts.setState((s) => ({ draft: { ...s.draft, ...patch } }));

export const setImage = (image: RolloutsState['image']) => rollouts.setState({ image });

export const showRolloutPage = (page: RolloutsPage) => rollouts.setState({ shown: true, page });

export function useRollouts<T>(selector: (s: RolloutsState) => T): T {
  return useStore(rollouts, selector);
}
