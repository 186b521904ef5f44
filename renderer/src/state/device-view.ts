// The list's rows from the fleet and the view settings: search, filter, sort and grouping as
// pure functions (unit tested), memoized so the list re-renders only when the visible order
// changes, not on every status update of a device already on screen. The search box speaks
// the CLI's selector syntax (protocol/src/fleet/selector.ts), so a filter typed here can be
// pasted into `mqboard fleet … --select` and picks the same devices.
import type { DeviceState } from '../../../protocol/src';
import { compileSelector, parseSelector, SelectorError, type Selector } from '../../../protocol/src/fleet/selector';
import type { PresenceFilter, SortKey } from './store';

export type Row = { kind: 'group'; group: string; count: number } | { kind: 'device'; prefix: string };

export interface ViewInput {
  devices: ReadonlyMap<string, DeviceState>;
  search: string;
  filter: PresenceFilter;
  sort: SortKey;
  groupByPrefix: boolean;
  /** Tags the user gave devices (FleetSettings.tags), matched by `tag:` and free text. */
  userTags?: Readonly<Record<string, readonly string[]>>;
}

export type ParsedSearch = { selector: Selector; error: null } | { selector: null; error: SelectorError };

/** The search box's text as a selector, or the mistake in it (with where to mark it). */
export function parseSearch(text: string): ParsedSearch {
  try {
    return { selector: parseSelector(text), error: null };
  } catch (e) {
    if (e instanceof SelectorError) return { selector: null, error: e };
    throw e;
  }
}

/**
 * A parser that remembers the last search that parsed: while the user is half way through a
 * term (`fw<`), the list keeps showing what the previous text picked instead of emptying.
 */
export function searchParser(): (text: string) => Selector {
  let lastText: string | undefined;
  let last: Selector = { source: '', terms: [] };
  return (text) => {
    if (text === lastText) return last;
    const p = parseSearch(text);
    lastText = text;
    if (p.selector) last = p.selector;
    return last;
  };
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


/** The first topic level: `site1/pump/3` groups under `site1`. */
export const groupOf = (prefix: string) => prefix.split('/')[0] ?? prefix;

const collator = new Intl.Collator(undefined, { numeric: true, sensitivity: 'base' });

/**
 * Prefixes in natural name order, with each one's rank (the tie-break of every other sort), its
 * group and its row object: worked out when devices join or leave, so a search or an update
 * allocates no row and compares no names.
 */
interface NameOrder {
  prefixes: string[];
  rank: Map<string, number>;
  rows: Map<string, Row & { kind: 'device' }>;
  groups: Map<string, string>;
}

function withPrefixes(prefixes: string[], before?: NameOrder): NameOrder {
  const rows = new Map<string, Row & { kind: 'device' }>();
  const groups = new Map<string, string>();
  for (const p of prefixes) {
    rows.set(p, before?.rows.get(p) ?? { kind: 'device', prefix: p });
    groups.set(p, before?.groups.get(p) ?? groupOf(p));
  }
  return { prefixes, rank: new Map(prefixes.map((p, i) => [p, i])), rows, groups };
}

const orders = new WeakMap<ReadonlyMap<string, DeviceState>, NameOrder>();

function nameOrder(devices: ReadonlyMap<string, DeviceState>): NameOrder {
  let o = orders.get(devices);
  if (!o) {
    o = withPrefixes([...devices.keys()].sort(collator.compare));
    orders.set(devices, o);
  }
  return o;
}

/** Beyond this many joins and leaves, one sort of everything beats inserting each. */
const MAX_INSERTS = 256;

/**
 * The order after devices joined or left: a few are inserted where they belong (a binary search
 * each), many mean one full sort. Unchanged membership returns the same order.
 */
function nextNameOrder(before: NameOrder, devices: ReadonlyMap<string, DeviceState>): NameOrder {
  const joined: string[] = [];
  for (const p of devices.keys()) {
    if (!before.rank.has(p)) {
      joined.push(p);
      if (joined.length > MAX_INSERTS) return nameOrder(devices);
    }
  }
  const kept = before.prefixes.length + joined.length === devices.size ? before.prefixes : before.prefixes.filter((p) => devices.has(p));
  if (kept.length + joined.length !== devices.size || before.prefixes.length - kept.length > MAX_INSERTS) return nameOrder(devices);
  if (joined.length === 0 && kept === before.prefixes) return before;
  const prefixes = kept === before.prefixes ? [...kept] : kept;
  for (const p of joined) {
    let lo = 0;
    let hi = prefixes.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (collator.compare(prefixes[mid]!, p) <= 0) lo = mid + 1;
      else hi = mid;
    }
    prefixes.splice(lo, 0, p);
  }
  return withPrefixes(prefixes, before);
}

function compare(sort: Exclude<SortKey, 'name'>, rank: Map<string, number>): (a: DeviceState, b: DeviceState) => number {
  const byName = (a: DeviceState, b: DeviceState) => rank.get(a.prefix)! - rank.get(b.prefix)!;
  const desc = (f: (d: DeviceState) => number | undefined) => (a: DeviceState, b: DeviceState) =>
    (f(b) ?? -1) - (f(a) ?? -1) || byName(a, b);
  switch (sort) {
    case 'status': {
      // Problems first: offline, then safe mode, then crashed, then healthy.
      const level = (d: DeviceState) => (d.presence !== 'online' ? 0 : d.mode === 'safe' ? 1 : (d.crashCount ?? 0) > 0 ? 2 : 3);
      return (a, b) => level(a) - level(b) || byName(a, b);
    }
    case 'lastSeen':
      return desc((d) => d.lastSeen);
    case 'uptime':
      return desc((d) => (d.presence === 'online' ? d.uptime : undefined));
    case 'freeMem':
      return desc((d) => d.freeMem);
  }
}

/** The devices the search and the presence filter pick, in name order. */
function picked(v: ViewInput, order: NameOrder, selector: Selector): DeviceState[] {
  const list: DeviceState[] = [];
  // `outdated` compares with the newest firmware in the fleet, so only it needs the whole list.
  const all = selector.terms.some((t) => t.kind === 'state' && t.states.includes('outdated')) ? [...v.devices.values()] : [];
  const pick = selector.terms.length ? compileSelector(selector, all, { userTags: v.userTags }) : () => true;
  for (const p of order.prefixes) {
    const d = v.devices.get(p);
    if (d && matchesFilter(d, v.filter) && pick(d)) list.push(d);
  }
  return list;
}

export function computeRows(v: ViewInput, order: NameOrder = nameOrder(v.devices), selector: Selector = parseSearch(v.search).selector ?? { source: '', terms: [] }): Row[] {
  const list = picked(v, order, selector);
  // Name order is the walk order already; other sorts compare numbers and break ties by rank,
  // so no string comparison runs per update (a collator sort of 10,000 names costs ~30 ms).
  if (v.sort !== 'name') list.sort(compare(v.sort, order.rank));
  if (!v.groupByPrefix) return list.map((d) => order.rows.get(d.prefix)!);
  const groups = new Map<string, DeviceState[]>();
  for (const d of list) {
    const g = order.groups.get(d.prefix)!;
    const arr = groups.get(g);
    if (arr) arr.push(d);
    else groups.set(g, [d]);
  }
  const rows: Row[] = [];
  for (const g of [...groups.keys()].sort(collator.compare)) {
    const members = groups.get(g)!;
    rows.push({ kind: 'group', group: g, count: members.length });
    for (const d of members) rows.push(order.rows.get(d.prefix)!);
  }
  return rows;
}

const sameRow = (a: Row, b: Row) =>
  a === b ||
  (a.kind === 'device' ? b.kind === 'device' && a.prefix === b.prefix : b.kind === 'group' && a.group === b.group && a.count === b.count);

/**
 * A selector-friendly memo: returns the previous array when the visible order is unchanged,
 * and re-sorts names only when devices join or leave, not on every status update.
 */
export function rowsSelector(): (v: ViewInput) => Row[] {
  let lastInput: ViewInput | undefined;
  let lastRows: Row[] = [];
  let order: NameOrder = withPrefixes([]);
  let lastKey = '';
  const parse = searchParser();
  return (v) => {
    if (lastInput && v.devices === lastInput.devices && sameView(v, lastInput)) return lastRows;
    const selector = parse(v.search);
    const key = selectorKey(selector);
    if (lastInput && v.devices === lastInput.devices && key === lastKey && sameView({ ...v, search: lastInput.search }, lastInput)) {
      // Typing that picks the same devices: a space between terms, or half a term (`fw<`)
      // while the list keeps the last search that parsed.
      lastInput = v;
      return lastRows;
    }
    if (lastInput && v.devices !== lastInput.devices && sameView(v, lastInput) && onlyIrrelevantChanges(lastInput.devices, v.devices, v)) {
      // The common case at scale: status updates that move no row (last seen, uptime under
      // name order). One identity pass over the map instead of filtering and sorting again.
      lastInput = v;
      return lastRows;
    }
    if (v.devices !== lastInput?.devices) order = nextNameOrder(order, v.devices);
    lastInput = v;
    lastKey = key;
    const rows = computeRows(v, order, selector);
    if (rows.length === lastRows.length && rows.every((r, i) => sameRow(r, lastRows[i]!))) return lastRows;
    lastRows = rows;
    return rows;
  };
}

/** What a selector means, without where its terms were written. */
const selectorKey = (sel: Selector) => JSON.stringify(sel.terms, (k, x: unknown) => (k === 'at' || k === 'length' ? undefined : x));

const sameView = (a: ViewInput, b: ViewInput) =>
  a.search === b.search && a.filter === b.filter && a.sort === b.sort && a.groupByPrefix === b.groupByPrefix && a.userTags === b.userTags;

const sameTags = (a: readonly string[] | undefined, b: readonly string[] | undefined) =>
  a === b || ((a?.length ?? 0) === (b?.length ?? 0) && (a ?? []).every((t, i) => t === b?.[i]));

/** The fields a row's place depends on under this view (filter, search and sort). */
function sameForView(a: DeviceState, b: DeviceState, v: ViewInput): boolean {
  if (a.presence !== b.presence || a.mode !== b.mode || a.crashCount !== b.crashCount) return false;
  // What a selector looks at; `outdated` makes any firmware change matter, so all are compared.
  if (v.search.trim() && (a.firmware !== b.firmware || a.kind !== b.kind || a.bootReason !== b.bootReason || !sameTags(a.tags, b.tags))) {
    return false;
  }
  switch (v.sort) {
    case 'name':
    case 'status':
      return true;
    case 'lastSeen':
      return a.lastSeen === b.lastSeen;
    case 'uptime':
      return a.uptime === b.uptime;
    case 'freeMem':
      return a.freeMem === b.freeMem;
  }
}

/** True when both maps hold the same prefixes and no changed device moves under this view. */
function onlyIrrelevantChanges(before: ReadonlyMap<string, DeviceState>, after: ReadonlyMap<string, DeviceState>, v: ViewInput): boolean {
  if (before.size !== after.size) return false;
  for (const [p, d] of after) {
    const old = before.get(p);
    if (old === d) continue;
    if (!old || !sameForView(old, d, v)) return false;
  }
  return true;
}

export interface FleetCounts {
  total: number;
  online: number;
  offline: number;
  safe: number;
  crash: number;
}

const countsCache = new WeakMap<ReadonlyMap<string, DeviceState>, FleetCounts>();

/** Counts per filter; computed once per fleet snapshot however many views ask. */
export function countFleet(devices: ReadonlyMap<string, DeviceState>): FleetCounts {
  const cached = countsCache.get(devices);
  if (cached) return cached;
  const c: FleetCounts = { total: 0, online: 0, offline: 0, safe: 0, crash: 0 };
  for (const d of devices.values()) {
    c.total++;
    if (d.presence === 'online') c.online++;
    else c.offline++;
    if (d.mode === 'safe') c.safe++;
    if ((d.crashCount ?? 0) > 0) c.crash++;
  }
  countsCache.set(devices, c);
  return c;
}
