// The bar under the list while devices are selected: how many, Clear, and what to do with them.
// Each action opens its dialog over the devices selected at that moment, so a selection that
// changes while the dialog is open does not change what the action runs on.
import { openPlanner } from '../rollouts/rollouts-state';
import { rowPrefixes } from '../state/selection';
import { rowsOf } from './use-rows';
import { useApp, useAppStore } from '../ui/context';
import type { FleetDialog } from '../state/store';

export function SelectionBar() {
  const store = useAppStore();
  const count = useApp((s) => s.selected.size);
  if (count === 0) return null;
  const open = (kind: Exclude<NonNullable<FleetDialog>, { kind: 'results' }>['kind']) => {
    store.getState().setFleetDialog({ kind, prefixes: [...store.getState().selected] });
  };
  return (
    <div className="selection-bar" role="toolbar" aria-label="Selected devices" data-testid="selection-bar" data-count={count}>
      <div className="selection-count">
        <strong data-testid="selection-count">{count}</strong> selected
        <button className="btn btn-small btn-ghost" data-testid="selection-clear" onClick={() => store.getState().clearSelected()} title="Clear the selection (Escape in the list)">
          Clear
        </button>
      </div>
      <div className="selection-actions">
        <button className="btn btn-small btn-primary" data-testid="action-run" onClick={() => open('run')}>
          Run code…
        </button>
        <button className="btn btn-small" data-testid="action-put" onClick={() => open('put')}>
          Push files…
        </button>
        <button className="btn btn-small" data-testid="action-tags" onClick={() => open('tags')}>
          Tags…
        </button>
        <button className="btn btn-small" data-testid="action-reset" onClick={() => open('reset')}>
          Reset…
        </button>
        <button
          className="btn btn-small"
          data-testid="action-rollout"
          onClick={() => {
            const s = store.getState();
            // The search goes along as the rollout's selector only when it is what was selected:
            // the planner must not widen a hand-picked selection to everything the search shows.
            const shown = rowPrefixes(rowsOf(store)(s));
            const same = s.search.trim() !== '' && shown.length === s.selected.size && shown.every((p) => s.selected.has(p));
            openPlanner([...s.selected], same ? s.search.trim() : undefined);
          }}
        >
          Roll out…
        </button>
      </div>
    </div>
  );
}
