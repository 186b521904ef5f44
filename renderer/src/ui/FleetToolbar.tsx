// Search, filter, sort and grouping for the fleet list, with live counts per filter.
import { useMemo } from 'react';
import { countFleet } from '../state/device-view';
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
  const st = store.getState();

  return (
    <div className="fleet-toolbar">
      <div className="search">
        <Icon name="search" />
        <input
          data-testid="device-search"
          type="search"
          placeholder="Search devices"
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
