// The REPL tab of a device workspace. A live terminal for devices with the terminal
// capability, a line-mode REPL over `eval` for the others, both in the same xterm adapter. The
// tab is keep-alive: switching tabs or devices hides it, and the session goes on.
import { useEffect, useRef, useState } from 'react';
import { useApp, useAppStore, useBridge } from '../../ui/context';
import { Icon } from '../../ui/icons';
import { TerminalFrontend } from './frontend';
import { LineModeRepl } from './line-mode';
import { LiveSession, type LiveStatus } from './live-session';
import './repl.css';

type Mode = 'live' | 'line';

export function ReplTab({ prefix }: { prefix: string }) {
  const live = useApp((s) => s.devices.get(prefix)?.capabilities?.terminal === true);
  // A new mode is a new pane: the status that says "terminal" may arrive after the tab opened.
  const mode: Mode = live ? 'live' : 'line';
  return <ReplPane key={mode} prefix={prefix} mode={mode} />;
}

interface Controller {
  input(data: string): void;
  resize?(cols: number, rows: number): void;
  reconnect?(): Promise<void>;
  connectionRestored?(): void;
  dispose(): void;
}

function ReplPane({ prefix, mode }: { prefix: string; mode: Mode }) {
  const bridge = useBridge();
  const store = useAppStore();
  const host = useRef<HTMLDivElement>(null);
  const fe = useRef<TerminalFrontend | null>(null);
  const ctl = useRef<Controller | null>(null);
  const [status, setStatus] = useState<LiveStatus>({ phase: mode === 'live' ? 'opening' : 'open' });
  const [query, setQuery] = useState('');
  const [found, setFound] = useState<{ index: number; count: number } | null>(null);
  const phase = useApp((s) => s.connection?.phase);

  useEffect(() => {
    const el = host.current;
    if (!el) return;
    const controller: { current: Controller | null } = { current: null };
    const frontend = new TerminalFrontend({
      onData: (d) => controller.current?.input(d),
      onResize: (cols, rows) => controller.current?.resize?.(cols, rows),
      onFindResults: (index, count) => setFound(index < 0 && count === 0 ? null : { index, count }),
    });
    frontend.mount(el);
    if (mode === 'live') {
      const s = new LiveSession(bridge, prefix, frontend, setStatus, () => store.getState().connection?.phase === 'connected');
      controller.current = s;
      void s.open();
    } else {
      const r = new LineModeRepl(bridge, prefix, frontend);
      controller.current = r;
      r.start();
    }
    fe.current = frontend;
    ctl.current = controller.current;
    frontend.focus();
    return () => {
      controller.current?.dispose();
      frontend.dispose();
      fe.current = null;
      ctl.current = null;
    };
  }, [bridge, store, prefix, mode]);

  // After a broker drop the host ends the session; once connected again, start a new one in
  // the same terminal (scrollback kept).
  useEffect(() => {
    if (phase === 'connected') ctl.current?.connectionRestored?.();
  }, [phase]);

  const find = (backwards = false) => fe.current?.find(query, { backwards });
  const label = mode === 'line' ? 'Line mode' : status.phase === 'open' ? 'Live' : status.phase === 'opening' ? 'Connecting…' : 'Ended';
  const tone = mode === 'line' ? 'tone-warn' : status.phase === 'open' ? 'tone-ok' : status.phase === 'opening' ? 'tone-muted' : 'tone-bad';

  return (
    <div className="repl-tab" data-testid="repl-tab" data-mode={mode} data-state={mode === 'live' ? status.phase : 'line'}>
      <div className="repl-toolbar">
        <span className={`repl-status ${tone}`} data-testid="repl-status">
          <span className={`status-dot ${tone}`} />
          {label}
        </span>
        <span className="repl-hint">
          {mode === 'live' ? (
            <>
              <kbd>Tab</kbd> completes · <kbd>Ctrl+C</kbd> interrupts · <kbd>Ctrl+D</kbd> ends
            </>
          ) : (
            <>
              No live terminal: each line runs as <code>eval</code>. Expressions show their value, statements what they print; output of code called from an expression goes to the board&apos;s console
            </>
          )}
        </span>
        <span className="repl-search">
          <Icon name="search" size={13} />
          <input
            value={query}
            placeholder="Find"
            aria-label="Find in terminal"
            data-testid="repl-search"
            onChange={(e) => {
              setQuery(e.target.value);
              fe.current?.find(e.target.value, { incremental: true });
            }}
            onKeyDown={(e) => {
              if (e.key === 'Enter') find(e.shiftKey);
              if (e.key === 'Escape') {
                setQuery('');
                fe.current?.find('');
                fe.current?.focus();
              }
            }}
          />
          {query ? (
            <span className="repl-found" data-testid="repl-found" aria-live="polite">
              {found && found.count > 0 ? `${found.index + 1} of ${found.count}` : 'No results'}
            </span>
          ) : null}
        </span>
        <button className="btn btn-small btn-ghost" title="Copy selection (Ctrl+Shift+C)" data-testid="repl-copy" onClick={() => void fe.current?.copy()}>
          Copy
        </button>
        <button
          className="btn btn-small btn-ghost"
          title="Paste (Ctrl+Shift+V)"
          data-testid="repl-paste"
          onClick={() => {
            void fe.current?.paste();
            fe.current?.focus();
          }}
        >
          Paste
        </button>
        <button
          className="btn btn-small btn-ghost"
          title="Clear the scrollback"
          data-testid="repl-clear"
          onClick={() => {
            fe.current?.clear();
            fe.current?.focus();
          }}
        >
          <Icon name="trash" size={13} /> Clear
        </button>
        {mode === 'live' && (
          <button className="btn btn-small" title="End this session and open a new one" data-testid="repl-reconnect" onClick={() => {
              // The keyboard goes back to the terminal: Enter must reach the new session, not click Reconnect again.
              fe.current?.focus();
              void ctl.current?.reconnect?.().finally(() => fe.current?.focus());
            }}
          >
            <Icon name="refresh" size={13} /> Reconnect
          </button>
        )}
      </div>
      <div className="repl-screen" data-testid="repl-terminal" ref={host} onClick={() => fe.current?.focus()} />
    </div>
  );
}
