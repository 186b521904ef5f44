// The fleet list: virtualized (only visible rows exist in the DOM), fed by a memoized row
// selector, so 10,000 devices with status updates every second stay smooth. Keyboard: arrows
// move, Enter opens, Home/End jump, Space toggles the cursor row's selection, Ctrl/Cmd+A
// selects every device shown, Escape clears the selection. Mouse: a click opens, Ctrl/Cmd-click
// toggles, Shift-click selects a range (selection.ts).
import { useVirtualizer } from '@tanstack/react-virtual';
import { useCallback, useEffect, useRef } from 'react';
import type { Row } from '../state/device-view';
import { rangeBetween, rowPrefixes } from '../state/selection';
import { useRows } from '../fleet/use-rows';
import { useApp, useAppStore } from './context';
import { DeviceRow, GroupRow, type PickHow } from './DeviceRow';

const ROW_HEIGHT = 58;
const GROUP_HEIGHT = 30;

export function DeviceList() {
  const store = useAppStore();
  const rows = useRows();
  // The pick handler reads the rows through a ref, so it stays one function and no row re-renders
  // when the order changes.
  const rowsRef = useRef(rows);
  useEffect(() => {
    rowsRef.current = rows;
  }, [rows]);
  const onPick = useCallback(
    (prefix: string, how: PickHow) => {
      const s = store.getState();
      if (how === 'open') {
        s.openDevice(prefix);
        s.setAnchor(prefix);
      } else if (how === 'toggle') s.toggleSelected(prefix);
      else {
        const range = rangeBetween(rowsRef.current, s.anchor, prefix);
        s.selectMany(range);
        if (s.anchor === null || range.length <= 1) s.setAnchor(prefix);
      }
    },
    [store],
  );
  const cursor = useApp((s) => s.cursor);
  const total = useApp((s) => s.devices.size);
  const connected = useApp((s) => s.connection?.phase === 'connected');
  const parent = useRef<HTMLDivElement>(null);

  // We do not use the React Compiler; the virtualizer re-renders this component itself.
  // eslint-disable-next-line react-hooks/incompatible-library
  const virtualizer = useVirtualizer({
    count: rows.length,
    getScrollElement: () => parent.current,
    estimateSize: (i) => (rows[i]?.kind === 'group' ? GROUP_HEIGHT : ROW_HEIGHT),
    overscan: 8,
    getItemKey: (i) => rowKey(rows[i]!),
  });

  const deviceIndex = useCallback((prefix: string | null) => (prefix === null ? -1 : rows.findIndex((r) => r.kind === 'device' && r.prefix === prefix)), [rows]);

  const move = (delta: number | 'home' | 'end') => {
    const devices = rows.flatMap((r, i) => (r.kind === 'device' ? [i] : []));
    if (devices.length === 0) return;
    const at = devices.indexOf(deviceIndex(store.getState().cursor));
    const next = delta === 'home' ? 0 : delta === 'end' ? devices.length - 1 : at < 0 ? 0 : Math.min(devices.length - 1, Math.max(0, at + delta));
    const index = devices[next]!;
    const row = rows[index];
    if (row?.kind === 'device') {
      store.getState().setCursor(row.prefix);
      virtualizer.scrollToIndex(index, { align: 'auto' });
    }
  };

  // Keep the cursor on screen when the order changes under it.
  useEffect(() => {
    const i = deviceIndex(cursor);
    if (i >= 0) virtualizer.scrollToIndex(i, { align: 'auto' });
    // Only when the cursor moves, not on every reorder: a live list must not yank the view.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [cursor]);

  const onKeyDown = (e: React.KeyboardEvent) => {
    const pageRows = Math.max(1, Math.floor((parent.current?.clientHeight ?? 600) / ROW_HEIGHT) - 1);
    const keys: Record<string, () => void> = {
      ArrowDown: () => move(1),
      ArrowUp: () => move(-1),
      PageDown: () => move(pageRows),
      PageUp: () => move(-pageRows),
      Home: () => move('home'),
      End: () => move('end'),
      Enter: () => {
        const c = store.getState().cursor;
        if (c) store.getState().openDevice(c);
      },
      ' ': () => {
        const c = store.getState().cursor;
        if (c) store.getState().toggleSelected(c);
      },
      Escape: () => store.getState().clearSelected(),
    };
    if ((e.ctrlKey || e.metaKey) && e.key.toLowerCase() === 'a') {
      e.preventDefault();
      store.getState().selectMany(rowPrefixes(rows));
      return;
    }
    if (e.ctrlKey || e.metaKey || e.altKey) return;
    const k = keys[e.key];
    if (k) {
      e.preventDefault();
      k();
    }
  };

  return (
    <div
      className="device-list"
      ref={parent}
      tabIndex={0}
      role="listbox"
      aria-label="Devices"
      aria-multiselectable="true"
      aria-activedescendant={cursor ? `dev-${cssId(cursor)}` : undefined}
      data-testid="device-list"
      data-count={rows.filter((r) => r.kind === 'device').length}
      onKeyDown={onKeyDown}
    >
      {rows.length === 0 ? (
        <EmptyList total={total} connected={connected} />
      ) : (
        <div style={{ height: virtualizer.getTotalSize(), position: 'relative' }}>
          {virtualizer.getVirtualItems().map((v) => {
            const row = rows[v.index]!;
            return (
              <div key={v.key} className="vrow" style={{ transform: `translateY(${v.start}px)`, height: v.size }}>
                {row.kind === 'group' ? <GroupRow group={row.group} count={row.count} /> : <DeviceRow prefix={row.prefix} onPick={onPick} />}
              </div>
            );
          })}
        </div>
      )}
    </div>
  );
}

function EmptyList({ total, connected }: { total: number; connected: boolean }) {
  const store = useAppStore();
  if (total > 0) {
    return (
      <div className="empty" data-testid="list-empty">
        <p>No device matches.</p>
        <button
          className="btn btn-small"
          onClick={() => {
            store.getState().setSearch('');
            store.getState().setFilter('all');
          }}
        >
          Clear search and filter
        </button>
      </div>
    );
  }
  return (
    <div className="empty" data-testid="list-empty">
      <p>{connected ? 'Waiting for devices to announce themselves…' : 'Not connected to a broker.'}</p>
      <p className="muted">Devices appear when they publish their status. Boards that do not can be added by prefix.</p>
    </div>
  );
}

const rowKey = (r: Row) => (r.kind === 'group' ? `g:${r.group}` : `d:${r.prefix}`);
export const cssId = (prefix: string) => prefix.replace(/[^a-zA-Z0-9_-]/g, '_');
