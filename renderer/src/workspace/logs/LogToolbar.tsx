// The log view's controls: level toggles, search (text or regex, case), pause/resume with the
// count of lines waiting, follow, and export.
import { useEffect, useState } from 'react';
import { useStore } from 'zustand';
import { LEVELS, LEVEL_NAMES, type Level } from '../../../../protocol/src';
import { Icon } from '../../ui/icons';
import type { LogViewModel } from './log-view-model';

/** Typing settles for this long before the host is asked to search its history again. */
const SEARCH_SETTLE_MS = 250;

export function LogToolbar({ model, onExport, exporting }: { model: LogViewModel; onExport(): void; exporting: boolean }) {
  const levels = useStore(model.store, (s) => s.levels);
  const regex = useStore(model.store, (s) => s.regex);
  const caseSensitive = useStore(model.store, (s) => s.caseSensitive);
  const paused = useStore(model.store, (s) => s.paused);
  const pending = useStore(model.store, (s) => s.pending);
  const follow = useStore(model.store, (s) => s.follow);
  const error = useStore(model.store, (s) => s.error);
  const [text, setText] = useState(() => model.store.getState().search);

  useEffect(() => {
    if (text === model.store.getState().search) return;
    const t = setTimeout(() => model.setFilter({ search: text }), SEARCH_SETTLE_MS);
    return () => clearTimeout(t);
  }, [text, model]);

  const toggleLevel = (l: Level) => {
    const next = levels.includes(l) ? levels.filter((x) => x !== l) : LEVELS.filter((x) => x === l || levels.includes(x));
    model.setFilter({ levels: next });
  };

  return (
    <div className="log-toolbar">
      <div className="log-levels" role="group" aria-label="Levels">
        {LEVELS.map((l) => (
          <button
            key={l}
            className={`log-level-toggle lv-${l}${levels.includes(l) ? ' on' : ''}`}
            aria-pressed={levels.includes(l)}
            title={`${LEVEL_NAMES[l]} (double-click: only this level)`}
            data-testid={`log-level-${l}`}
            onClick={() => toggleLevel(l)}
            onDoubleClick={() => model.setFilter({ levels: [l] })}
          >
            {l}
          </button>
        ))}
      </div>
      <label className={`search log-search${error && text ? ' invalid' : ''}`}>
        <Icon name="search" size={14} />
        <input value={text} onChange={(e) => setText(e.target.value)} placeholder={regex ? 'Regular expression' : 'Search logs'} spellCheck={false} data-testid="log-search" aria-label="Search logs" />
        <button className={`search-opt${caseSensitive ? ' on' : ''}`} aria-pressed={caseSensitive} title="Match case" onClick={() => model.setFilter({ caseSensitive: !caseSensitive })} data-testid="log-case">
          Aa
        </button>
        <button className={`search-opt${regex ? ' on' : ''}`} aria-pressed={regex} title="Regular expression" onClick={() => model.setFilter({ regex: !regex })} data-testid="log-regex">
          .*
        </button>
      </label>
      <div className="topbar-spacer" />
      {paused ? (
        <button className="btn btn-small btn-warn" onClick={() => model.setPaused(false)} data-testid="log-resume">
          Resume
          <span className="count" data-testid="log-pending" data-pending={pending}>
            {pending.toLocaleString()} new line{pending === 1 ? '' : 's'}
          </span>
        </button>
      ) : (
        <button className="btn btn-small" onClick={() => model.setPaused(true)} data-testid="log-pause">
          Pause
        </button>
      )}
      <button className={`btn btn-small${follow ? ' btn-on' : ''}`} aria-pressed={follow} onClick={() => model.setFollow(!follow)} data-testid="log-follow" data-follow={follow} title="Keep the newest line in view">
        Follow
      </button>
      <button className="btn btn-small" onClick={onExport} disabled={exporting} data-testid="log-export" title="Export every stored line matching this view">
        <Icon name="download" size={14} /> Export
      </button>
    </div>
  );
}
