// One log view's data: a bounded deque of lines (outside any React or zustand state) and a
// small vanilla zustand store with the view settings and a version counter the virtualized list
// re-renders on (style anchors: log floods do not belong in the store).
//
// The deque holds only lines that match the view's filter: history comes from the host already
// filtered (search runs host-side over everything stored), live lines are tested here with the
// same matcher (protocol/src/log-filter.ts). Changing the filter reloads from the host.
import { createStore, type StoreApi } from 'zustand/vanilla';
import { LEVELS, type Level, type LogEntry } from '../../../../protocol/src';
import { MAX_LOG_PAGE, type LogFilter, type LogRecord } from '../../../../protocol/src/bridge-logs';
import { compileLogFilter, type LogMatcher } from '../../../../protocol/src/log-filter';
import type { BridgeClient } from '../../bridge/client';
import { LogDeque } from './log-deque';

export type LogRow = LogRecord;

export interface LogViewState {
  levels: Level[];
  search: string;
  regex: boolean;
  caseSensitive: boolean;
  /** While paused the list stands still; matching lines wait in `held`. */
  paused: boolean;
  /** Matching lines that arrived while paused ("N new lines"). */
  pending: number;
  /** Keep the newest line in view; scrolling up turns it off. */
  follow: boolean;
  /** Bumped whenever the rows change; the list re-renders on it. */
  version: number;
  /** Rows removed from the front since the last reload (the list keeps its position). */
  evicted: number;
  /** Rows of older history added to the front since the last reload (likewise). */
  prepended: number;
  loading: boolean;
  /** No older history to load (or the view is full). */
  historyDone: boolean;
  error: string | null;
  /** Id of the row shown in the detail pane (full text, crash stack). */
  selected: number | null;
}

export interface LogViewModel {
  readonly prefix: string | undefined;
  readonly store: StoreApi<LogViewState>;
  readonly rows: LogDeque<LogRow>;
  matcher(): LogMatcher;
  filter(): LogFilter;
  setFilter(patch: Partial<Pick<LogViewState, 'levels' | 'search' | 'regex' | 'caseSensitive'>>): void;
  setPaused(paused: boolean): void;
  setFollow(follow: boolean): void;
  select(id: number | null): void;
  /** The row with this id, if the view holds it. */
  find(id: number): LogRow | undefined;
  /** Loads one page of older history to the front; resolves with how many rows were added. */
  loadOlder(): Promise<number>;
  /**
   * Lines from the `logs` stream (any device; the view keeps its own). `gap`: store ids the
   * stream skipped before these (the host caps a batch), which the view fetches from history.
   */
  live(entries: LogEntry[], gap?: LiveGap): void;
  start(): void;
}

/** Store ids [from, to) that the live stream did not deliver. */
export interface LiveGap {
  from: number;
  to: number;
}

export interface LogViewOptions {
  prefix?: string;
  capacity?: number;
  pageSize?: number;
}

export const DEFAULT_CAPACITY = 100_000;

export function createLogViewModel(bridge: Pick<BridgeClient, 'call'>, o: LogViewOptions = {}): LogViewModel {
  const prefix = o.prefix;
  const pageSize = o.pageSize ?? 2_000;
  const rows = new LogDeque<LogRow>(o.capacity ?? DEFAULT_CAPACITY);
  const store = createStore<LogViewState>()(() => ({
    levels: [...LEVELS],
    search: '',
    regex: false,
    caseSensitive: false,
    paused: false,
    pending: 0,
    follow: true,
    version: 0,
    evicted: 0,
    prepended: 0,
    loading: false,
    historyDone: false,
    error: null,
    selected: null,
  }));
  let matcher = compileLogFilter({});
  let cursor: number | null = null;
  /** Newest id in the view or held: live lines at or below it are already shown. */
  let maxId = -1;
  /** Bumped on every filter change, so a stale history reply is dropped. */
  let generation = 0;
  /** Live lines that arrive while the first page is loading. */
  let early: LogRow[] | null = null;
  let held: LogRow[] = [];
  /** While a gap is fetched from history, later live batches wait here, in order. */
  let backfilling = false;
  let queue: { entries: LogEntry[]; gap?: LiveGap }[] = [];

  const filter = (): LogFilter => {
    const s = store.getState();
    return {
      ...(s.levels.length < LEVELS.length ? { levels: s.levels } : {}),
      ...(s.search ? { search: s.search, regex: s.regex, caseSensitive: s.caseSensitive } : {}),
    };
  };
  const bump = (extra: Partial<LogViewState> = {}) => store.setState((s) => ({ ...extra, version: s.version + 1 }));

  function append(items: LogRow[]) {
    if (items.length === 0) return;
    const dropped = rows.pushBack(items);
    bump(dropped ? { evicted: store.getState().evicted + dropped } : {});
  }

  /** The view's lines among `entries`; `fresh`: drop what the view already has. */
  function toRows(entries: LogEntry[], fresh: boolean): LogRow[] {
    const mine: LogRow[] = [];
    for (const e of entries) {
      if (prefix !== undefined && e.prefix !== prefix) continue;
      // Lines without a store id (an older host) are shown as they come, never deduplicated.
      const id = e.id ?? maxId + 1;
      if (fresh && e.id !== undefined && id <= maxId) continue;
      if (!matcher.test(e.line.level, e.line.name, e.line.text)) continue;
      mine.push({ id, prefix: e.prefix, received: e.received, ...e.line, ...(e.crash ? { crash: e.crash } : {}) });
    }
    return mine;
  }

  /** Shows new rows (in id order), or holds them while paused. */
  function accept(mine: LogRow[]) {
    if (mine.length === 0) return;
    maxId = Math.max(maxId, mine.at(-1)!.id);
    if (store.getState().paused) {
      held.push(...mine);
      // Held lines are bounded like the view: beyond its capacity the oldest would be evicted
      // on resume anyway.
      if (held.length > rows.capacity) held.splice(0, held.length - rows.capacity);
      store.setState((s) => ({ pending: s.pending + mine.length }));
      return;
    }
    append(mine);
  }

  async function backfill(gap: LiveGap) {
    const gen = generation;
    backfilling = true;
    try {
      const limit = Math.min(MAX_LOG_PAGE, gap.to - gap.from);
      const page = await bridge.call('queryLogs', { ...(prefix ? { prefix } : {}), filter: filter(), limit, before: gap.to });
      if (gen !== generation) return;
      accept(page.records.filter((r) => r.id > maxId));
    } catch {
      // The lines stay in the host's history; the live view goes on without them.
    } finally {
      if (gen === generation) {
        backfilling = false;
        const waiting = queue;
        queue = [];
        for (const [i, item] of waiting.entries()) {
          model.live(item.entries, item.gap);
          // A further gap started another fetch: the rest waits for it, still in order.
          if (backfilling) {
            queue.push(...waiting.slice(i + 1));
            break;
          }
        }
      }
    }
  }

  /**
   * A rare search can come back with few or no lines and a cursor: the host stops after a scan
   * limit. Keep asking (older and older) until the view has a page or history is exhausted, so
   * the user never has to scroll an empty list to continue a search.
   */
  async function topUp(gen: number) {
    while (gen === generation && cursor !== null && rows.length < pageSize && !store.getState().error) {
      const before = cursor;
      await model.loadOlder();
      if (cursor === before) return; // another load is running; it continues from there
    }
  }

  async function reload() {
    const gen = ++generation;
    matcher = compileLogFilter(filter());
    rows.clear();
    held = [];
    backfilling = false;
    queue = [];
    cursor = null;
    maxId = -1;
    early = [];
    bump({ loading: true, historyDone: false, error: matcher.error ?? null, pending: 0, evicted: 0, prepended: 0, selected: null });
    if (matcher.error) {
      early = null;
      bump({ loading: false, historyDone: true });
      return;
    }
    try {
      const page = await bridge.call('queryLogs', { ...(prefix ? { prefix } : {}), filter: filter(), limit: pageSize });
      if (gen !== generation) return;
      rows.pushBack(page.records);
      cursor = page.cursor;
      maxId = page.records.at(-1)?.id ?? -1;
      const late = (early ?? []).filter((r) => r.id > maxId);
      early = null;
      if (late.length) maxId = late.at(-1)!.id;
      rows.pushBack(late);
      bump({ loading: false, historyDone: cursor === null });
      await topUp(gen);
    } catch (e) {
      if (gen !== generation) return;
      const rest = early ?? [];
      early = null;
      rows.pushBack(rest);
      bump({ loading: false, historyDone: true, error: `History unavailable: ${e instanceof Error ? e.message : String(e)}` });
    }
  }

  const model: LogViewModel = {
    prefix,
    store,
    rows,
    matcher: () => matcher,
    filter,
    setFilter(patch) {
      store.setState(patch);
      void reload();
    },
    setPaused(paused) {
      if (paused) {
        store.setState({ paused: true, pending: 0 });
        return;
      }
      const items = held;
      held = [];
      store.setState({ paused: false, pending: 0, follow: true });
      append(items);
      bump();
    },
    setFollow(follow) {
      if (store.getState().follow !== follow) store.setState({ follow });
    },
    select(id) {
      store.setState({ selected: id });
    },
    find(id) {
      // Rows are in id order (history pages and live lines both arrive in store order).
      let lo = 0;
      let hi = rows.length - 1;
      while (lo <= hi) {
        const mid = (lo + hi) >> 1;
        const r = rows.get(mid)!;
        if (r.id === id) return r;
        if (r.id < id) lo = mid + 1;
        else hi = mid - 1;
      }
      return undefined;
    },
    async loadOlder() {
      const s = store.getState();
      if (s.loading || s.historyDone || cursor === null) return 0;
      if (rows.length >= rows.capacity) {
        store.setState({ historyDone: true });
        return 0;
      }
      const gen = generation;
      store.setState({ loading: true });
      try {
        const page = await bridge.call('queryLogs', { ...(prefix ? { prefix } : {}), filter: filter(), limit: pageSize, before: cursor });
        if (gen !== generation) return 0;
        const added = rows.pushFront(page.records);
        cursor = page.cursor;
        bump({ loading: false, historyDone: cursor === null || added < page.records.length, prepended: store.getState().prepended + added });
        return added;
      } catch (e) {
        if (gen === generation) bump({ loading: false, error: `History unavailable: ${e instanceof Error ? e.message : String(e)}` });
        return 0;
      }
    },
    live(entries, gap) {
      if (early !== null) {
        // The first page is loading; it covers everything stored before it was asked for.
        early.push(...toRows(entries, false));
        return;
      }
      if (backfilling) {
        queue.push({ entries, gap });
        return;
      }
      if (gap) {
        queue.push({ entries });
        void backfill(gap);
        return;
      }
      accept(toRows(entries, true));
    },
    start() {
      void reload();
    },
  };
  return model;
}
