// Feeds the rollouts store (rollouts-state.ts) from the host: the `rollouts` event stream (its
// subscription is part of bridge/feed.ts's list) and a first snapshot from rolloutList, loaded
// again when the app switches to another broker profile (rollouts belong to one broker). Started
// once per bridge client by whatever first shows rollouts (the top bar's button).
import type { EventBatch, RolloutDevice, RolloutSummary } from '../../../protocol/src';
import type { BridgeClient } from '../bridge/client';
import { rollouts } from './rollouts-state';

const started = new WeakSet<BridgeClient>();
/** While the host has no rollout handlers (or the call fails), the list is asked for again this often. */
const RETRY_MS = 15_000;

export function startRolloutsFeed(bridge: BridgeClient): void {
  if (started.has(bridge)) return;
  started.add(bridge);
  let profile: string | null | undefined;
  let retry: ReturnType<typeof setTimeout> | undefined;
  let generation = 0;

  const load = () => {
    clearTimeout(retry);
    const gen = ++generation;
    bridge
      .call('rolloutList', {})
      .then(({ rollouts: list }) => {
        if (gen !== generation) return;
        rollouts.setState((s) => {
          const map = new Map<string, RolloutSummary>();
          for (const r of list) map.set(r.id, r);
          // An event may have brought a rollout the list (asked for earlier) did not have yet;
          // the map is emptied on a profile switch, so what is left belongs to this broker.
          for (const [id, r] of s.rollouts) if (!map.has(id)) map.set(id, r);
          return { rollouts: map, listError: null };
        });
      })
      .catch((e: unknown) => {
        if (gen !== generation) return;
        rollouts.setState({ listError: e instanceof Error ? e.message : String(e) });
        retry = setTimeout(load, RETRY_MS);
      });
  };

  bridge.onEvents((batch: EventBatch) => {
    for (const e of batch) {
      if (e.stream === 'rollouts') applyRolloutEvent(e.rollout, e.devices);
      else if (e.stream === 'profiles' && e.state.active !== profile) {
        profile = e.state.active;
        rollouts.setState({ rollouts: new Map(), devices: new Map() });
        load();
      }
    }
  });
  load();
}

/** A rollout's new summary and the devices that changed (merged into those already known). */
export function applyRolloutEvent(summary: RolloutSummary, changed: readonly RolloutDevice[]): void {
  rollouts.setState((s) => {
    const next: Partial<typeof s> = { rollouts: new Map(s.rollouts).set(summary.id, summary) };
    if (changed.length > 0) {
      const devices = new Map(s.devices.get(summary.id) ?? []);
      for (const d of changed) devices.set(d.prefix, d);
      next.devices = new Map(s.devices).set(summary.id, devices);
    }
    return next;
  });
}

/** A rollout's whole device list from the host (a page opened after it started). */
export async function loadRolloutDevices(bridge: BridgeClient, id: string): Promise<void> {
  const { rollout, devices } = await bridge.call('rolloutGet', { id });
  rollouts.setState((s) => {
    // Events that arrived while the answer was on its way are newer than it: keep them.
    const known = s.devices.get(id);
    const merged = new Map(devices.map((d) => [d.prefix, d]));
    if (known) for (const [p, d] of known) merged.set(p, d);
    return { rollouts: new Map(s.rollouts).set(id, s.rollouts.get(id) ?? rollout), devices: new Map(s.devices).set(id, merged) };
  });
}

/** A rollout removed from the history. */
export function forgetRollout(id: string): void {
  rollouts.setState((s) => {
    const list = new Map(s.rollouts);
    list.delete(id);
    const devices = new Map(s.devices);
    devices.delete(id);
    return { rollouts: list, devices };
  });
}
