// The line above the list: how many devices the search shows, a checkbox for all of them
// ("select all N matching"), and the way back to the latest job's results.
import { useEffect, useRef } from 'react';
import { countShown, rowPrefixes } from '../state/selection';
import { useApp, useAppStore } from '../ui/context';
import { useRows } from './use-rows';

export function ListHead() {
  const store = useAppStore();
  const rows = useRows();
  const selected = useApp((s) => s.selected);
  const total = useApp((s) => s.devices.size);
  const lastJob = useApp((s) => {
    let last: string | null = null;
    for (const id of s.jobs.keys()) last = id;
    return last;
  });
  const shown = rowPrefixes(rows).length;
  const selectedShown = countShown(selected, rows);
  const all = shown > 0 && selectedShown === shown;
  const box = useRef<HTMLInputElement>(null);
  useEffect(() => {
    if (box.current) box.current.indeterminate = selectedShown > 0 && !all;
  }, [selectedShown, all]);
  if (total === 0) return null;
  return (
    <div className="list-head" data-testid="list-head">
      <label className="list-head-all" title={all ? 'Clear the selection' : `Select all ${shown} devices shown (Ctrl+A in the list)`}>
        <input
          ref={box}
          type="checkbox"
          data-testid="select-all"
          checked={all}
          disabled={shown === 0}
          onChange={() => {
            const s = store.getState();
            if (all) s.selectMany(rowPrefixes(rows), false);
            else s.selectMany(rowPrefixes(rows));
          }}
        />
        <span data-testid="shown-count">
          {shown === total ? `${total} device${total === 1 ? '' : 's'}` : `${shown} of ${total} match`}
        </span>
      </label>
      {shown > 0 && shown < total && !all ? (
        <button className="linkish" data-testid="select-matching" onClick={() => store.getState().selectMany(rowPrefixes(rows))}>
          Select all {shown} matching
        </button>
      ) : null}
      <span className="row-spacer" />
      {selected.size > selectedShown ? <span className="muted" title="Selected devices the search hides stay selected">{selected.size - selectedShown} hidden selected</span> : null}
      {lastJob ? (
        <button className="linkish" data-testid="open-results" onClick={() => store.getState().setFleetDialog({ kind: 'results', job: lastJob })}>
          Last results
        </button>
      ) : null}
    </div>
  );
}
