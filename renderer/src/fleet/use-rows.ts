// The list's rows, computed once per store however many components ask (the list, its header
// with "select all N matching", the selection bar): one memo per store, so a status update
// costs one identity pass, not one per reader.
import { rowsSelector, type Row } from '../state/device-view';
import type { AppState, AppStore } from '../state/store';
import { useApp, useAppStore } from '../ui/context';

const memos = new WeakMap<AppStore, (s: AppState) => Row[]>();

export function rowsOf(store: AppStore): (s: AppState) => Row[] {
  let m = memos.get(store);
  if (!m) {
    const rows = rowsSelector();
    m = (s) => rows({ devices: s.devices, search: s.search, filter: s.filter, sort: s.sort, groupByPrefix: s.groupByPrefix, userTags: s.userTags });
    memos.set(store, m);
  }
  return m;
}

export function useRows(): Row[] {
  return useApp(rowsOf(useAppStore()));
}
