// The list's rows from the fleet and the view settings: search, filter, sort and grouping as
// pure functions (unit tested), memoized so the list re-renders only when the visible order
// changes, not on every status update of a device already on screen.
import type { DeviceState } from '../../../protocol/src';
import type { PresenceFilter, SortKey } from './store';

export type Row = { kind: 'group'; group: string; count: number } | { kind: 'device'; prefix: string };

export interface ViewInput {
  devices: ReadonlyMap<string, DeviceState>;
  search: string;
  filter: PresenceFilter;
  sort: SortKey;
  groupByPrefix: boolean;
}

export function matchesFilter(d: DeviceState, f: PresenceFilter): boolean {
  switch (f) {
    case 'all':
      return true;
    case 'online':
      return d.presence === 'online';
    case 'offline':
      return d.presence !== 'online';
    case 'safe':
      return d.mode === 'safe';
    case 'crash':
      return (d.crashCount ?? 0) > 0;
  }
}

/** Case-insensitive substring match on the prefix, versions and mode. */
export function matchesSearch(d: DeviceState, search: string): boolean {
  const q = search.trim().toLowerCase();
  if (!q) return true;
  const hay = [d.prefix, d.firmware, d.runtime?.kind, d.runtime?.version, d.mode, d.kind].filter(Boolean).join(' ').toLowerCase();
  return q.split(/\s+/).every((w) => hay.includes(w));
}

/** The first topic level: `site1/pump/3` groups under `site1`. */
export const groupOf = (prefix: string) => prefix.split('/')[0] ?? prefix;

const collator = new Intl.Collator(undefined, { numeric: true, sensitivity: 'base' });

function compare(sort: SortKey): (a: DeviceState, b: DeviceState) => number {
  const byName = (a: DeviceState, b: DeviceState) => collator.compare(a.prefix, b.prefix);
  const desc = (f: (d: DeviceState) => number | undefined) => (a: DeviceState, b: DeviceState) =>
    (f(b) ?? -1) - (f(a) ?? -1) || byName(a, b);
  switch (sort) {
    case 'name':
      return byName;
    case 'status': {
      // Problems first: offline, then safe mode, then crashed, then healthy.
      const rank = (d: DeviceState) => (d.presence !== 'online' ? 0 : d.mode === 'safe' ? 1 : (d.crashCount ?? 0) > 0 ? 2 : 3);
      return (a, b) => rank(a) - rank(b) || byName(a, b);
    }
    case 'lastSeen':
      return desc((d) => d.lastSeen);
    case 'uptime':
      return desc((d) => (d.presence === 'online' ? d.uptime : undefined));
    case 'freeMem':
      return desc((d) => d.freeMem);
  }
}

export function computeRows(v: ViewInput): Row[] {
  const list: DeviceState[] = [];
  for (const d of v.devices.values()) if (matchesFilter(d, v.filter) && matchesSearch(d, v.search)) list.push(d);
  list.sort(compare(v.sort));
  if (!v.groupByPrefix) return list.map((d) => ({ kind: 'device', prefix: d.prefix }));
  const groups = new Map<string, DeviceState[]>();
  for (const d of list) {
    const g = groupOf(d.prefix);
    const arr = groups.get(g);
    if (arr) arr.push(d);
    else groups.set(g, [d]);
  }
  const rows: Row[] = [];
  for (const g of [...groups.keys()].sort(collator.compare)) {
    const members = groups.get(g)!;
    rows.push({ kind: 'group', group: g, count: members.length });
    for (const d of members) rows.push({ kind: 'device', prefix: d.prefix });
  }
  return rows;
}

const sameRow = (a: Row, b: Row) =>
  a.kind === 'device' ? b.kind === 'device' && a.prefix === b.prefix : b.kind === 'group' && a.group === b.group && a.count === b.count;

/** A selector-friendly memo: returns the previous array when the visible order is unchanged. */
export function rowsSelector(): (v: ViewInput) => Row[] {
  let lastInput: ViewInput | undefined;
  let lastRows: Row[] = [];
  return (v) => {
    if (
      lastInput &&
      v.devices === lastInput.devices &&
      v.search === lastInput.search &&
      v.filter === lastInput.filter &&
      v.sort === lastInput.sort &&
      v.groupByPrefix === lastInput.groupByPrefix
    ) {
      return lastRows;
    }
    lastInput = v;
    const rows = computeRows(v);
    if (rows.length === lastRows.length && rows.every((r, i) => sameRow(r, lastRows[i]!))) return lastRows;
    lastRows = rows;
    return rows;
  };
}

export interface FleetCounts {
  total: number;
  online: number;
  offline: number;
  safe: number;
  crash: number;
}

export function countFleet(devices: ReadonlyMap<string, DeviceState>): FleetCounts {
  const c: FleetCounts = { total: 0, online: 0, offline: 0, safe: 0, crash: 0 };
  for (const d of devices.values()) {
    c.total++;
    if (d.presence === 'online') c.online++;
    else c.offline++;
    if (d.mode === 'safe') c.safe++;
    if ((d.crashCount ?? 0) > 0) c.crash++;
  }
  return c;
}
