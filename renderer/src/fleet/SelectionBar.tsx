// The bar under the list while devices are selected: how many, Clear, and what to do with them.
// Each action opens its dialog over the devices selected at that moment, so a selection that
// changes while the dialog is open does not change what the action runs on. Where the actions do
// not fit on one line (the list is narrow at the window's minimum size), the less used ones go
// into a "More" menu instead of wrapping the bar onto a second line of the short list.
import { useEffect, useLayoutEffect, useRef, useState } from 'react';
import { openPlanner } from '../rollouts/rollouts-state';
import { rowPrefixes } from '../state/selection';
import type { FleetDialog } from '../state/store';
import { useApp, useAppStore } from '../ui/context';
import { Icon } from '../ui/icons';
import { rowsOf } from './use-rows';

type DialogKind = Exclude<NonNullable<FleetDialog>, { kind: 'results' }>['kind'];

/** The actions that go into the menu when the bar is narrow, in their order on the bar. */
const SECONDARY: { kind: DialogKind; label: string }[] = [
  { kind: 'put', label: 'Push files…' },
  { kind: 'tags', label: 'Tags…' },
  { kind: 'reset', label: 'Reset…' },
];

export function SelectionBar() {
  const store = useAppStore();
  const count = useApp((s) => s.selected.size);
  const bar = useRef<HTMLDivElement>(null);
  const [compact, setCompact] = useState(false);
  const [menu, setMenu] = useState(false);
  /** The width every action took on one line, measured when they last did not fit. */
  const fullWidth = useRef(0);
  const shown = count > 0;
  // The menu exists only while the bar is compact.
  const menuOpen = menu && compact;

  useLayoutEffect(() => {
    const el = bar.current;
    if (!el) return;
    const fit = () => {
      if (!compact && el.scrollWidth > el.clientWidth + 1) {
        fullWidth.current = el.scrollWidth;
        setCompact(true);
      } else if (compact && el.clientWidth >= fullWidth.current) setCompact(false);
    };
    fit();
    const watch = new ResizeObserver(fit);
    watch.observe(el);
    return () => watch.disconnect();
  }, [compact, shown]);

  useEffect(() => {
    if (!menuOpen) return;
    const close = (e: Event) => {
      if (e instanceof KeyboardEvent ? e.key === 'Escape' : !bar.current?.querySelector('.selection-more')?.contains(e.target as Node)) setMenu(false);
    };
    document.addEventListener('pointerdown', close);
    document.addEventListener('keydown', close);
    return () => {
      document.removeEventListener('pointerdown', close);
      document.removeEventListener('keydown', close);
    };
  }, [menuOpen]);

  if (count === 0) return null;
  const open = (kind: DialogKind) => {
    setMenu(false);
    store.getState().setFleetDialog({ kind, prefixes: [...store.getState().selected] });
  };
  const rollOut = () => {
    const s = store.getState();
    // The search goes along as the rollout's selector only when it is what was selected:
    // the planner must not widen a hand-picked selection to everything the search shows.
    const shown = rowPrefixes(rowsOf(store)(s));
    const same = s.search.trim() !== '' && shown.length === s.selected.size && shown.every((p) => s.selected.has(p));
    openPlanner([...s.selected], same ? s.search.trim() : undefined);
  };
  return (
    <div ref={bar} className={`selection-bar${compact ? ' compact' : ''}`} role="toolbar" aria-label="Selected devices" data-testid="selection-bar" data-count={count}>
      <div className="selection-count">
        <strong data-testid="selection-count">{count.toLocaleString()}</strong> selected
        <button className="btn btn-small btn-ghost" data-testid="selection-clear" onClick={() => store.getState().clearSelected()} title="Clear the selection (Escape in the list)" aria-label="Clear the selection">
          {compact ? <Icon name="close" size={14} /> : 'Clear'}
        </button>
      </div>
      <div className="selection-actions">
        <button className="btn btn-small btn-primary" data-testid="action-run" onClick={() => open('run')}>
          Run code…
        </button>
        {compact
          ? null
          : SECONDARY.map((a) => (
              <button key={a.kind} className="btn btn-small" data-testid={`action-${a.kind}`} onClick={() => open(a.kind)}>
                {a.label}
              </button>
            ))}
        <button className="btn btn-small" data-testid="action-rollout" onClick={rollOut}>
          Roll out…
        </button>
        {compact ? (
          <div className="selection-more">
            <button className="btn btn-small" aria-haspopup="menu" aria-expanded={menuOpen} title="More actions" aria-label="More actions" data-testid="selection-more" onClick={() => setMenu(!menuOpen)}>
              ⋯
            </button>
            {menuOpen ? (
              <div className="selection-menu" role="menu" aria-label="More actions" data-testid="selection-menu">
                {SECONDARY.map((a) => (
                  <button key={a.kind} role="menuitem" data-testid={`action-${a.kind}`} onClick={() => open(a.kind)}>
                    {a.label}
                  </button>
                ))}
              </div>
            ) : null}
          </div>
        ) : null}
      </div>
    </div>
  );
}
