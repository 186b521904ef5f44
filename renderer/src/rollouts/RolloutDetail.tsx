// One rollout, live: its state (a banner saying why when it paused), the controls that fit it
// (pause, resume, abort after a confirmation, retry the failed devices, forget once finished),
// each wave's progress, and every device with its state, the gate's checks as they pass, the
// version it came from and reports now, and why it failed or was skipped.
import { useEffect, useMemo, useState } from 'react';
import { GateCheckName, type OperationName, type RolloutDevice, type RolloutSummary } from '../../../protocol/src';
import { ConfirmDialog } from '../ui/ConfirmDialog';
import { useAppStore, useBridge } from '../ui/context';
import { ago, bytes } from '../ui/format';
import { Icon } from '../ui/icons';
import { useNow } from '../ui/use-now';
import { applyRolloutEvent, forgetRollout, loadRolloutDevices } from './rollouts-feed';
import { countsText, deviceRows, isFailure, stateTone, waveProgress, type DeviceFilter } from './rollout-view';
import { showRolloutPage, useRollouts } from './rollouts-state';

/** Rows drawn at once; a larger rollout is narrowed with the filter (the counts stay exact). */
const ROW_LIMIT = 400;
const NO_DEVICES: ReadonlyMap<string, RolloutDevice> = new Map();

export function RolloutDetail({ id }: { id: string }) {
  const bridge = useBridge();
  const summary = useRollouts((s) => s.rollouts.get(id));
  const devices = useRollouts((s) => s.devices.get(id)) ?? NO_DEVICES;
  const [loadError, setLoadError] = useState<string | null>(null);

  // The view is keyed by the rollout's id, so an error shown belongs to this one.
  useEffect(() => {
    loadRolloutDevices(bridge, id).catch((e: unknown) => setLoadError(e instanceof Error ? e.message : String(e)));
  }, [bridge, id]);

  if (!summary) {
    return (
      <div className="rollout-detail">
        {loadError ? (
          <div className="callout callout-bad" role="alert">
            <Icon name="alert" />
            <div>This rollout could not be loaded: {loadError}</div>
          </div>
        ) : (
          <p className="muted">Loading…</p>
        )}
      </div>
    );
  }
  return (
    <div className="rollout-detail" data-testid="rollout-detail" data-id={id} data-state={summary.state}>
      <RolloutHeader r={summary} />
      {summary.state === 'paused' ? <PausedBanner r={summary} /> : null}
      <Controls r={summary} />
      {loadError ? (
        <div className="callout callout-warn" role="alert">
          <Icon name="alert" />
          <div>The device list could not be loaded: {loadError}</div>
        </div>
      ) : null}
      <Waves r={summary} devices={devices} />
      <DeviceTable r={summary} devices={devices} />
    </div>
  );
}

function RolloutHeader({ r }: { r: RolloutSummary }) {
  const now = useNow();
  const what =
    r.state === 'running' ? `Running wave ${r.wave + 1} of ${r.waves.length}` : r.state === 'paused' ? `Paused in wave ${r.wave + 1} of ${r.waves.length}` : r.state === 'done' ? 'Done' : 'Aborted';
  return (
    <div className="rollout-head">
      <div className="rollout-title">
        <h3>{r.name}</h3>
        <span className={`pill ${STATE_PILL[r.state]}`} data-testid="rollout-state" data-state={r.state}>
          {what}
        </span>
      </div>
      <div className="muted rollout-sub">
        <span>
          <Icon name="chip" size={13} /> {r.image.name} <span className="mono">{r.image.version ? `→ ${r.image.version}` : ''}</span> ({r.image.kind === 'bundle' ? 'app bundle' : 'firmware'}, {bytes(r.image.size)})
        </span>
        <span>started {ago(r.created, now)}</span>
        {r.ended ? <span>ended {ago(r.ended, now)}</span> : null}
        <span data-testid="rollout-counts">{countsText(r.counts)}</span>
      </div>
    </div>
  );
}

const STATE_PILL: Record<RolloutSummary['state'], string> = { running: 'pill-ok', paused: 'pill-warn', done: 'pill-muted', aborted: 'pill-bad' };

function PausedBanner({ r }: { r: RolloutSummary }) {
  const failed = (r.counts.failed ?? 0) + (r.counts['rolled-back'] ?? 0);
  return (
    <div className="callout callout-warn rollout-paused" role="status" data-testid="rollout-paused">
      <Icon name="alert" />
      <div>
        <strong>The rollout paused{r.pausedReason ? ':' : '.'}</strong> {r.pausedReason}
        <div className="muted small">
          Devices not yet updated stay as they are. {failed > 0 ? `Look at the ${failed === 1 ? 'failed device' : `${failed} failed devices`} below, then resume, retry them or abort.` : 'Resume to carry on with the next devices.'}
        </div>
      </div>
    </div>
  );
}

function Controls({ r }: { r: RolloutSummary }) {
  const bridge = useBridge();
  const app = useAppStore();
  const [busy, setBusy] = useState<string | null>(null);
  const [confirm, setConfirm] = useState<'abort' | 'forget' | null>(null);
  const failed = (r.counts.failed ?? 0) + (r.counts['rolled-back'] ?? 0);
  const live = r.state === 'running' || r.state === 'paused';

  const act = async (op: Extract<OperationName, 'rolloutPause' | 'rolloutResume' | 'rolloutAbort' | 'rolloutRetry'>) => {
    setConfirm(null);
    setBusy(op);
    try {
      const { rollout } = await bridge.call(op, { id: r.id });
      applyRolloutEvent(rollout, []);
    } catch (e) {
      app.getState().toast('error', e instanceof Error ? e.message : String(e));
    } finally {
      setBusy(null);
    }
  };
  const forget = async () => {
    setConfirm(null);
    try {
      await bridge.call('rolloutForget', { id: r.id });
      forgetRollout(r.id);
      showRolloutPage({ kind: 'history' });
    } catch (e) {
      app.getState().toast('error', e instanceof Error ? e.message : String(e));
    }
  };

  return (
    <div className="rollout-controls">
      {r.state === 'running' ? (
        <button className="btn" disabled={busy !== null} onClick={() => void act('rolloutPause')} data-testid="rollout-pause">
          Pause
        </button>
      ) : null}
      {r.state === 'paused' ? (
        <button className="btn btn-primary" disabled={busy !== null} onClick={() => void act('rolloutResume')} data-testid="rollout-resume">
          Resume
        </button>
      ) : null}
      {failed > 0 && r.state !== 'aborted' ? (
        <button className="btn" disabled={busy !== null} onClick={() => void act('rolloutRetry')} data-testid="rollout-retry">
          <Icon name="refresh" size={14} /> Retry {failed === 1 ? 'the failed device' : `${failed} failed devices`}
        </button>
      ) : null}
      {live ? (
        <button className="btn btn-warn" disabled={busy !== null} onClick={() => setConfirm('abort')} data-testid="rollout-abort">
          Abort…
        </button>
      ) : (
        <button className="btn btn-ghost" onClick={() => setConfirm('forget')} data-testid="rollout-forget">
          <Icon name="trash" size={14} /> Remove from history
        </button>
      )}
      {confirm === 'abort' ? (
        <ConfirmDialog
          title="Abort this rollout?"
          body={<p>Devices not yet updated stay on the version they have; a device receiving the image now is cancelled. Devices already updated keep the new version.</p>}
          confirm="Abort rollout"
          danger
          busy={busy === 'rolloutAbort'}
          onConfirm={() => void act('rolloutAbort')}
          onCancel={() => setConfirm(null)}
        />
      ) : null}
      {confirm === 'forget' ? (
        <ConfirmDialog
          title="Remove from history?"
          body={<p>“{r.name}” and its per-device outcome are removed from the list. Devices are not changed.</p>}
          confirm="Remove"
          onConfirm={() => void forget()}
          onCancel={() => setConfirm(null)}
        />
      ) : null}
    </div>
  );
}

function Waves({ r, devices }: { r: RolloutSummary; devices: ReadonlyMap<string, RolloutDevice> }) {
  const progress = useMemo(() => r.waves.map((w) => waveProgress(devices.values(), w.index)), [r.waves, devices]);
  return (
    <ol className="rollout-waves" data-testid="rollout-waves">
      {r.waves.map((w, i) => {
        const p = progress[i]!;
        // Before the device list arrives, the wave's size from the summary stands in.
        const total = Math.max(p.total, w.size) || 1;
        const pct = (n: number) => `${((n / total) * 100).toFixed(2)}%`;
        return (
          <li key={w.index} className={`panel rollout-wave wave-${w.state}${i === r.wave && r.state !== 'done' ? ' current' : ''}`} data-testid="rollout-wave" data-state={w.state}>
            <div className="rollout-wave-head">
              <strong>
                Wave {w.index + 1}
                {w.index === 0 ? ' (canary)' : ''}
              </strong>
              <span className="muted" title={`written as ${w.label}`}>
                {w.size.toLocaleString()} device{w.size === 1 ? '' : 's'}
              </span>
              <span className="muted rollout-wave-state">{i === r.wave && r.state === 'paused' ? 'paused' : w.state === 'running' ? 'in progress' : w.state}</span>
            </div>
            <div className="wave-bar" role="img" aria-label={`${p.updated} updated, ${p.failed} failed, ${p.active} in progress of ${w.size}`}>
              <span className="seg seg-ok" style={{ width: pct(p.updated) }} />
              <span className="seg seg-bad" style={{ width: pct(p.failed) }} />
              <span className="seg seg-active" style={{ width: pct(p.active) }} />
              <span className="seg seg-skip" style={{ width: pct(p.skipped) }} />
            </div>
            <div className="muted small rollout-wave-counts">
              {p.updated}/{w.size} updated{p.failed ? `, ${p.failed} failed` : ''}
              {p.active ? `, ${p.active} in progress` : ''}
              {p.skipped ? `, ${p.skipped} skipped` : ''}
            </div>
          </li>
        );
      })}
    </ol>
  );
}

function DeviceTable({ r, devices }: { r: RolloutSummary; devices: ReadonlyMap<string, RolloutDevice> }) {
  const app = useAppStore();
  const [filter, setFilter] = useState<DeviceFilter>('all');
  const { rows, matched } = useMemo(() => deviceRows(devices.values(), filter, ROW_LIMIT), [devices, filter]);
  const filters: { id: DeviceFilter; label: string }[] = [
    { id: 'all', label: `All ${devices.size.toLocaleString()}` },
    { id: 'problems', label: 'Failed' },
    { id: 'active', label: 'In progress' },
  ];
  return (
    <section className="rollout-devices">
      <div className="rollout-devices-head">
        <h4 className="section-label">Devices</h4>
        <div className="segmented" role="radiogroup" aria-label="Show devices">
          {filters.map((f) => (
            <button key={f.id} role="radio" aria-checked={filter === f.id} className={filter === f.id ? 'on' : ''} onClick={() => setFilter(f.id)} data-testid={`rollout-filter-${f.id}`}>
              {f.label}
            </button>
          ))}
        </div>
      </div>
      <div className="panel rollout-table-wrap">
        <table className="rollout-table" data-testid="rollout-devices">
          <thead>
            <tr>
              <th>Device</th>
              <th>Wave</th>
              <th>State</th>
              <th>Gate</th>
              <th>Version</th>
              <th>Why</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((d) => (
              <tr key={d.prefix} data-testid="rollout-device" data-prefix={d.prefix} data-state={d.state} className={isFailure(d.state) ? 'row-bad' : undefined}>
                <td>
                  <button className="linkish mono" onClick={() => app.getState().openDevice(d.prefix)} title="Open this device">
                    {d.prefix}
                  </button>
                </td>
                <td className="num">{d.wave + 1}</td>
                <td>
                  <span className={`rstate ${stateTone(d.state) === 'active' ? 'rstate-active' : `pill-${stateTone(d.state)}`}`} data-testid="rollout-device-state">
                    {d.state.replace('-', ' ')}
                    {d.state === 'sending' && d.sent !== undefined && r.image.size > 0 ? ` ${Math.min(100, Math.floor((d.sent / r.image.size) * 100))}%` : ''}
                  </span>
                </td>
                <td>
                  <GateChecks d={d} />
                </td>
                <td className="mono rollout-version" data-testid="rollout-device-version">
                  {d.from ?? '?'}
                  {d.now !== undefined && d.now !== d.from ? ` → ${d.now}` : d.now !== undefined ? ' (unchanged)' : ''}
                </td>
                <td className="rollout-reason" title={d.reason}>
                  {d.reason ?? ''}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
        {matched > rows.length ? (
          <div className="muted small rollout-more">
            {rows.length.toLocaleString()} of {matched.toLocaleString()} shown: the failed and busy ones first.
          </div>
        ) : null}
        {devices.size === 0 ? <div className="muted small rollout-more">No devices yet.</div> : null}
      </div>
    </section>
  );
}

const CHECK_WORDS: Record<GateCheckName, string> = { online: 'online', version: 'version', confirmed: 'confirmed', 'no-crash': 'no crash' };

/** The gate's four checks in order, each pending, passed or failed, with what was seen. */
function GateChecks({ d }: { d: RolloutDevice }) {
  if (d.state === 'skipped' || (d.state === 'pending' && d.checks.length === 0)) return <span className="muted">—</span>;
  return (
    <span className="gate" data-testid="gate-checks">
      {GateCheckName.options.map((name) => {
        const c = d.checks.find((x) => x.name === name);
        const state = c?.state ?? 'pending';
        return (
          <span key={name} className={`gate-check gate-${state}`} title={c?.detail ? `${CHECK_WORDS[name]}: ${c.detail}` : `${CHECK_WORDS[name]}: ${state}`} data-testid="gate-check" data-check={name} data-state={state}>
            {state === 'passed' ? <Icon name="check" size={11} /> : state === 'failed' ? <Icon name="close" size={11} /> : null}
            {CHECK_WORDS[name]}
          </span>
        );
      })}
    </span>
  );
}
