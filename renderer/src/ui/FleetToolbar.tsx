// Search, filter, sort and grouping for the fleet list, with live counts per filter. The search
// is a device selector (the CLI's --select syntax); a mistake is marked where it is, and the
// list keeps what the last correct text picked.
import { useMemo } from 'react';
import { oneLine } from '../../../protocol/src/control-chars';
import { countFleet, parseSearch } from '../state/device-view';
import type { PresenceFilter, SortKey } from '../state/store';
import { useApp, useAppStore } from './context';
import { Icon } from './icons';

const FILTERS: { id: PresenceFilter; label: string; count: (c: ReturnType<typeof countFleet>) => number }[] = [
  { id: 'all', label: 'All', count: (c) => c.total },
  { id: 'online', label: 'Online', count: (c) => c.online },
  { id: 'offline', label: 'Offline', count: (c) => c.offline },
  { id: 'safe', label: 'Safe mode', count: (c) => c.safe },
  { id: 'crash', label: 'Crashed', count: (c) => c.crash },
];

const SORTS: { id: SortKey; label: string }[] = [
  { id: 'name', label: 'Name' },
  { id: 'status', label: 'Problems first' },
  { id: 'lastSeen', label: 'Last seen' },
  { id: 'uptime', label: 'Uptime' },
  { id: 'freeMem', label: 'Free memory' },
];

export function FleetToolbar() {
  const store = useAppStore();
  const search = useApp((s) => s.search);
  const filter = useApp((s) => s.filter);
  const sort = useApp((s) => s.sort);
  const group = useApp((s) => s.groupByPrefix);
  const devices = useApp((s) => s.devices);
  const counts = useMemo(() => countFleet(devices), [devices]);
  const error = useMemo(() => parseSearch(search).error, [search]);
  const st = store.getState();

  return (
    <div className="fleet-toolbar">
      <div className={`search${error ? ' search-invalid' : ''}`}>
        <Icon name="search" />
        <input
          data-testid="device-search"
          type="search"
          placeholder="Search or select: tag:lab fw<2.5 online greenhouse/*"
          title="Free text, or selector terms: tag:NAME  prefix/*  fw<2.5.0  online offline safe crashed outdated  kind:original  -term negates"
          aria-invalid={error ? true : undefined}
          aria-describedby={error ? 'selector-error' : undefined}
          value={search}
          spellCheck={false}
          onChange={(e) => st.setSearch(e.target.value)}
          onKeyDown={(e) => {
            if (e.key === 'Escape') {
              if (search) st.setSearch('');
              else e.currentTarget.blur();
            }
            if (e.key === 'ArrowDown' || e.key === 'Enter') {
              e.preventDefault();
              document.querySelector<HTMLElement>('[data-testid="device-list"]')?.focus();
            }
          }}
        />
        <kbd>/</kbd>
      </div>
      {error ? <SelectorMistake source={search} at={error.at} length={error.length} reason={error.reason} /> : null}
      <div className="segmented" role="radiogroup" aria-label="Filter">
        {FILTERS.map((f) => (
          <button
            key={f.id}
            role="radio"
            aria-checked={filter === f.id}
            className={filter === f.id ? 'on' : ''}
            data-testid={`filter-${f.id}`}
            onClick={() => st.setFilter(f.id)}
          >
            {f.label}
            <span className="count">{f.count(counts)}</span>
          </button>
        ))}
      </div>
      <div className="fleet-toolbar-row">
        <label className="select">
          <span>Sort</span>
          <select data-testid="device-sort" value={sort} onChange={(e) => st.setSort(e.target.value as SortKey)}>
            {SORTS.map((s) => (
              <option key={s.id} value={s.id}>
                {s.label}
              </option>
            ))}
          </select>
        </label>
        <label className="toggle" title="Group devices by the first level of their topic prefix">
          <input type="checkbox" data-testid="group-by-prefix" checked={group} onChange={(e) => st.setGroupByPrefix(e.target.checked)} />
          <span>Group by prefix</span>
        </label>
        <div className="topbar-spacer" />
        <button className="btn btn-small" data-testid="add-device" onClick={() => st.setDialog({ kind: 'addDevice' })} title="Add a device by its topic prefix">
          <Icon name="plus" /> Add
        </button>
      </div>
    </div>
  );
}

/** The search text with the part that does not parse marked, and why. */
function SelectorMistake({ source, at, length, reason }: { source: string; at: number; length: number; reason: string }) {
  const end = Math.min(source.length, at + Math.max(1, length));
  return (
    <div className="selector-error" id="selector-error" role="status" data-testid="selector-error" data-at={at} data-length={length}>
      <code className="selector-source">
        {oneLine(source.slice(0, at))}
        <mark>{oneLine(source.slice(at, end)) || ' '}</mark>
        {oneLine(source.slice(end))}
      </code>
      <span>{oneLine(reason)}. The list shows the last search that made sense.</span>
    </div>
  );
}
