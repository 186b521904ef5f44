// The Rollouts view: shown in place of the device workspace (like the fleet log view), opened from
// the top bar or the selection bar's "Roll out…". Three pages: the planner, one rollout live, and
// the history of rollouts on this broker with each one's outcome.
import { useEffect } from 'react';
import { useAppStore, useBridge } from '../ui/context';
import { ago } from '../ui/format';
import { Icon } from '../ui/icons';
import { useNow } from '../ui/use-now';
import { fleetLogs, showFleetLogs } from '../workspace/logs/fleet-logs-state';
import { Planner } from './Planner';
import { RolloutDetail } from './RolloutDetail';
import { startRolloutsFeed } from './rollouts-feed';
import { byCreated, countsText, liveRollouts } from './rollout-view';
import { rollouts, showRolloutPage, showRollouts, useRollouts } from './rollouts-state';
import './rollouts.css';

export function RolloutsPane() {
  const shown = useRollouts((s) => s.shown);
  const page = useRollouts((s) => s.page);
  const store = useAppStore();
  // Opening a device brings its workspace back; opening the fleet logs replaces this view, and
  // this view replaces them.
  useEffect(() => {
    const offApp = store.subscribe((s, prev) => {
      if (s.active !== prev.active || s.open !== prev.open) showRollouts(false);
    });
    const offLogs = fleetLogs.subscribe((s, prev) => {
      if (s.shown && !prev.shown) showRollouts(false);
    });
    const offSelf = rollouts.subscribe((s, prev) => {
      if (s.shown && !prev.shown) showFleetLogs(false);
    });
    return () => {
      offApp();
      offLogs();
      offSelf();
    };
  }, [store]);
  if (!shown) return null;
  return (
    <div className="rollouts" data-testid="rollouts">
      <div className="rollouts-head">
        <h2>Rollouts</h2>
        <nav className="segmented rollouts-nav" role="tablist">
          <button role="tab" aria-selected={page.kind === 'plan'} className={page.kind === 'plan' ? 'on' : ''} onClick={() => showRolloutPage({ kind: 'plan' })} data-testid="rollouts-new">
            <Icon name="plus" size={13} /> New
          </button>
          <CurrentTab />
          <button role="tab" aria-selected={page.kind === 'history'} className={page.kind === 'history' ? 'on' : ''} onClick={() => showRolloutPage({ kind: 'history' })} data-testid="rollouts-history">
            History
          </button>
        </nav>
        <div className="topbar-spacer" />
        <button className="btn btn-ghost btn-small" onClick={() => showRollouts(false)} data-testid="rollouts-close" aria-label="Close rollouts">
          <Icon name="close" size={12} />
        </button>
      </div>
      <div className="rollouts-body">
        {page.kind === 'plan' ? <Planner /> : page.kind === 'rollout' ? <RolloutDetail key={page.id} id={page.id} /> : <History />}
      </div>
    </div>
  );
}

/** A tab for the rollout on screen, or the newest one still going. */
function CurrentTab() {
  const page = useRollouts((s) => s.page);
  const latestLive = useRollouts((s) => byCreated(s.rollouts.values()).find((r) => r.state === 'running' || r.state === 'paused'));
  const id = page.kind === 'rollout' ? page.id : latestLive?.id;
  const r = useRollouts((s) => (id ? s.rollouts.get(id) : undefined));
  if (!id) return null;
  const on = page.kind === 'rollout';
  return (
    <button role="tab" aria-selected={on} className={`rollouts-current${on ? ' on' : ''}`} onClick={() => showRolloutPage({ kind: 'rollout', id })} data-testid="rollouts-current">
      {r?.state === 'paused' ? <span className="status-dot tone-warn" /> : r?.state === 'running' ? <span className="status-dot tone-ok" /> : null}
      <span className="rollouts-current-name">{r?.name ?? 'Rollout'}</span>
    </button>
  );
}

function History() {
  const list = useRollouts((s) => s.rollouts);
  const error = useRollouts((s) => s.listError);
  const now = useNow();
  const rows = byCreated(list.values());
  return (
    <div className="rollout-history" data-testid="rollout-history">
      {error && rows.length === 0 ? (
        <div className="callout callout-warn" role="alert">
          <Icon name="alert" />
          <div>Rollouts could not be listed: {error}</div>
        </div>
      ) : null}
      {rows.length === 0 && !error ? <p className="muted">No rollouts on this broker yet. Start one with “New”.</p> : null}
      {rows.map((r) => (
        <button key={r.id} className="panel history-item" onClick={() => showRolloutPage({ kind: 'rollout', id: r.id })} data-testid="history-item" data-id={r.id} data-state={r.state}>
          <span className={`status-dot ${r.state === 'running' ? 'tone-ok' : r.state === 'paused' ? 'tone-warn' : r.state === 'aborted' ? 'tone-bad' : 'tone-muted'}`} />
          <span className="history-main">
            <span className="history-name">
              <strong>{r.name}</strong> <span className="mono muted">{r.image.version ? `→ ${r.image.version}` : r.image.name}</span>
            </span>
            <span className="muted small">
              {r.state}
              {r.state === 'paused' && r.pausedReason ? `: ${r.pausedReason}` : ''} · {ago(r.created, now)} · {countsText(r.counts) || 'no devices'}
            </span>
          </span>
          <Icon name="chevron" size={14} />
        </button>
      ))}
    </div>
  );
}

/** The top bar's way in, with a badge while a rollout is running or paused. */
export function RolloutsButton() {
  const bridge = useBridge();
  useEffect(() => startRolloutsFeed(bridge), [bridge]);
  const shown = useRollouts((s) => s.shown);
  const live = useRollouts((s) => liveRollouts(s.rollouts.values()).live);
  const paused = useRollouts((s) => liveRollouts(s.rollouts.values()).paused);
  return (
    <button
      className={`btn btn-ghost rollouts-button${shown ? ' btn-on' : ''}`}
      aria-pressed={shown}
      onClick={() => showRollouts(!shown)}
      data-testid="open-rollouts"
      title={live ? `${live} rollout${live === 1 ? '' : 's'} going${paused ? `, ${paused} paused` : ''}` : 'Rollouts'}
    >
      Rollouts
      {live > 0 ? (
        <span className={`rollouts-badge${paused ? ' paused' : ''}`} data-testid="rollouts-badge" data-paused={paused > 0 ? 'true' : undefined}>
          {live}
        </span>
      ) : null}
    </button>
  );
}
