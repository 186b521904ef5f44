// A virtualized log view over one device or the whole fleet. Lines live in the view model's
// deque (outside React state); the list re-renders on the model's version counter, and only the
// visible rows exist in the DOM, so 100,000 lines scroll as smoothly as 100.
import { useVirtualizer } from '@tanstack/react-virtual';
import { useCallback, useEffect, useLayoutEffect, useRef, useState } from 'react';
import { useStore } from 'zustand';
import { BridgeCallError } from '../../bridge/client';
import { useAppStore, useBridge } from '../../ui/context';
import { exportLogs } from './export-logs';
import { createLogViewModel, type LogViewModel } from './log-view-model';
import { onLiveLogs } from './log-live';
import { LogRowView, ROW_HEIGHT, receivedTime } from './LogRowView';
import { LogToolbar } from './LogToolbar';
import './logs.css';

/** Close enough to the bottom to count as following (sub-pixel scroll positions). */
const BOTTOM_SLACK = 6;
/** Start loading older history this many rows before the top. */
const PREFETCH_ROWS = 40;

export function LogView({ prefix, header }: { prefix?: string; header?: React.ReactNode }) {
  const bridge = useBridge();
  const [model] = useState<LogViewModel>(() => createLogViewModel(bridge, { prefix }));
  useEffect(() => {
    const off = onLiveLogs(bridge, (entries, gap) => model.live(entries, gap));
    model.start();
    return off;
  }, [bridge, model]);

  return (
    <div className="log-view" data-testid="log-view" data-scope={prefix ?? 'fleet'}>
      <LogViewToolbar model={model} />
      {header}
      <LogList model={model} showDevice={prefix === undefined} />
      <LogDetail model={model} />
    </div>
  );
}

function LogViewToolbar({ model }: { model: LogViewModel }) {
  const bridge = useBridge();
  const app = useAppStore();
  const [exporting, setExporting] = useState(false);
  const onExport = () => {
    setExporting(true);
    exportLogs(bridge, model.prefix, model.filter())
      .then((msg) => msg && app.getState().toast('success', msg))
      .catch((e: unknown) => app.getState().toast('error', `Export failed: ${e instanceof BridgeCallError || e instanceof Error ? e.message : String(e)}`))
      .finally(() => setExporting(false));
  };
  return <LogToolbar model={model} onExport={onExport} exporting={exporting} />;
}

function LogList({ model, showDevice }: { model: LogViewModel; showDevice: boolean }) {
  const version = useStore(model.store, (s) => s.version);
  const follow = useStore(model.store, (s) => s.follow);
  const evicted = useStore(model.store, (s) => s.evicted);
  const prepended = useStore(model.store, (s) => s.prepended);
  const selected = useStore(model.store, (s) => s.selected);
  const loading = useStore(model.store, (s) => s.loading);
  const error = useStore(model.store, (s) => s.error);
  const searching = useStore(model.store, (s) => s.search !== '');
  const scroller = useRef<HTMLDivElement>(null);
  const count = model.rows.length;

  // We do not use the React Compiler; the virtualizer re-renders this component itself.
  // eslint-disable-next-line react-hooks/incompatible-library
  const virtualizer = useVirtualizer({
    count,
    getScrollElement: () => scroller.current,
    estimateSize: () => ROW_HEIGHT,
    overscan: 30,
  });

  // Rows added to or dropped from the front move everything below; shift the scroll position
  // by as much so what the user is reading stays put (unless following the end anyway).
  const shifts = useRef({ evicted, prepended });
  useLayoutEffect(() => {
    const el = scroller.current;
    const delta = prepended - shifts.current.prepended - (evicted - shifts.current.evicted);
    shifts.current = { evicted, prepended };
    if (el && delta !== 0 && !model.store.getState().follow) el.scrollTop += delta * ROW_HEIGHT;
  }, [evicted, prepended, model]);

  useLayoutEffect(() => {
    const el = scroller.current;
    // Fixed row heights: the committed DOM already has the full height, so the end is exact.
    if (follow && el) el.scrollTop = el.scrollHeight;
  }, [version, follow, count]);

  const onScroll = useCallback(() => {
    const el = scroller.current;
    if (!el) return;
    const atBottom = el.scrollHeight - el.scrollTop - el.clientHeight <= BOTTOM_SLACK;
    // Scrolling up disengages follow; scrolling back to the end engages it again.
    model.setFollow(atBottom);
    if (el.scrollTop < PREFETCH_ROWS * ROW_HEIGHT) void model.loadOlder();
  }, [model]);

  const onSelect = useCallback((id: number) => model.select(model.store.getState().selected === id ? null : id), [model]);
  const matcher = model.matcher();
  const items = virtualizer.getVirtualItems();

  return (
    <div className={`log-list${showDevice ? ' with-device' : ''}`}>
      <div className="log-head" aria-hidden="true">
        <span className="lc-received">Received</span>
        <span className="lc-time">Device time</span>
        {showDevice ? <span className="lc-device">Device</span> : null}
        <span className="lc-level">L</span>
        <span className="lc-name">Logger</span>
        <span className="lc-text">
          Message <span className="count" data-testid="log-count" data-count={count}>{count.toLocaleString()}</span>
        </span>
      </div>
      <div className="log-scroll" ref={scroller} onScroll={onScroll} data-testid="log-scroll">
        {count === 0 ? (
          <p className="log-empty muted" data-testid="log-empty">
            {error ?? (loading ? (searching ? 'Searching history…' : 'Loading history…') : 'No log lines match.')}
          </p>
        ) : (
          <div style={{ height: virtualizer.getTotalSize(), position: 'relative' }}>
            {/* Rows flow inside one shifted block, so scrolling moves the block and re-renders
                only rows that come into view (the memoized rows keep their props). */}
            <div className="log-window" style={{ transform: `translateY(${items[0]?.start ?? 0}px)` }}>
              {items.map((v) => {
                const row = model.rows.get(v.index);
                return row ? <LogRowView key={`${row.id}-${row.prefix}`} row={row} matcher={matcher} showDevice={showDevice} selected={row.id === selected} onSelect={onSelect} /> : null;
              })}
            </div>
          </div>
        )}
      </div>
      {count > 0 && loading ? <div className="log-more">Loading older lines…</div> : null}
      {error && count > 0 ? <div className="log-error">{error}</div> : null}
    </div>
  );
}

/** The selected line in full: long text wraps here, and a crash record shows its stack. */
function LogDetail({ model }: { model: LogViewModel }) {
  const selected = useStore(model.store, (s) => s.selected);
  useStore(model.store, (s) => s.version);
  if (selected === null) return null;
  const row = model.find(selected);
  if (!row) return null;
  return (
    <div className="log-detail" data-testid="log-detail">
      <div className="log-detail-head">
        <span className={`lv-${row.level} lc-level`}>{row.level}</span>
        <span className="muted">
          {row.prefix} · received {receivedTime(row.received)} · device time {row.time} · {row.name}
        </span>
        <button className="btn btn-ghost btn-small" onClick={() => model.select(null)} aria-label="Close">
          ×
        </button>
      </div>
      <pre className={`code lv-${row.level}`}>{row.text}</pre>
      {row.crash?.stack ? <pre className="code" data-testid="log-detail-stack">{row.crash.stack}</pre> : null}
      {row.crash && row.crash.log.length > 0 ? (
        <>
          <h4>Last lines before the crash</h4>
          <pre className="code">{row.crash.log.join('\n')}</pre>
        </>
      ) : null}
    </div>
  );
}
