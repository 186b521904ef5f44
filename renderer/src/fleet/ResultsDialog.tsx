// A job's results as they stream in: progress, the outcomes grouped ("38 devices → 2.5.0"),
// the table per device, re-run of the failed ones, cancel, and CSV / JSON export. Device
// output is untrusted text: shown as text only, its control characters made visible.
import { useEffect, useMemo, useState } from 'react';
import type { JobResult } from '../../../protocol/src';
import { neutraliseControls, oneLine } from '../../../protocol/src/control-chars';
import { failedPrefixes, groupResults, resultsCsv, resultsJson, summarizeGroups } from '../../../protocol/src/fleet/results';
import { useApp, useAppStore, useBridge } from '../ui/context';
import { Modal } from '../ui/Modal';
import { downloadText as download } from './download';
import { errorText } from './fleet-errors';
import { jobTable } from './job-table';

/** Rows drawn in the table at once; the exports always hold every row. */
const MAX_TABLE_ROWS = 500;
/** A running job unheard of for this long is fetched whole (a missed event, a reload)... */
const STALE_MS = 2_000;
/** ...and one whose rows only wait in the queue, which may take hours, less often. */
const QUEUED_STALE_MS = 15_000;

export function ResultsDialog({ jobId }: { jobId: string }) {
  const store = useAppStore();
  const bridge = useBridge();
  const job = useApp((s) => s.jobs.get(jobId));
  const jobs = useApp((s) => s.jobs);
  const [view, setView] = useState<'groups' | 'table'>('groups');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const close = () => store.getState().setFleetDialog(null);
  const table = useMemo(() => (job ? jobTable(job, jobs) : null), [job, jobs]);
  const groups = useMemo(() => (table ? groupResults(table.finished) : []), [table]);
  const unfinished = !job || job.summary.state === 'running' || table?.running !== 0 ? 'running' : table.finished.some((r) => r.status === 'queued') ? 'queued' : null;
  useJobRefresh(jobId, unfinished);

  if (!job || !table) {
    return (
      <Modal title="Results" onClose={close} testId="results-dialog">
        <p className="muted">This job is no longer kept in the window.</p>
      </Modal>
    );
  }
  const s = job.summary;
  const failed = failedPrefixes(table.finished);
  const done = table.finished.filter((r) => r.status !== 'queued').length;
  const queued = table.finished.length - done;
  const act = async (what: () => Promise<void>) => {
    setBusy(true);
    setError(null);
    try {
      await what();
    } catch (e) {
      setError(errorText(e));
    } finally {
      setBusy(false);
    }
  };
  const rerun = () =>
    act(async () => {
      const { job: next } = await bridge.call('jobRerun', { job: s.id, which: 'failed' });
      store.getState().applyJob(next, []);
      store.getState().setFleetDialog({ kind: 'results', job: next.id });
    });
  const cancel = () => act(async () => void (await bridge.call('jobCancel', { job: s.id })));
  const stamp = new Date(s.created).toISOString().replace(/[:.]/g, '-').slice(0, 19);

  return (
    <Modal
      title={`${s.kind === 'eval' ? 'Run' : s.kind === 'put' ? 'Push' : 'Reset'}: ${oneLine(s.title)}`}
      onClose={close}
      wide
      testId="results-dialog"
      footer={
        <>
          <button className="btn" disabled={table.finished.length === 0} data-testid="export-csv" onClick={() => download(`mqboard-${s.kind}-${stamp}.csv`, 'text/csv', resultsCsv(table.finished))}>
            Export CSV
          </button>
          <button
            className="btn"
            disabled={table.finished.length === 0}
            data-testid="export-json"
            onClick={() => download(`mqboard-${s.kind}-${stamp}.json`, 'application/json', `${JSON.stringify(resultsJson(table.finished), null, 2)}\n`)}
          >
            Export JSON
          </button>
          <span className="row-spacer" />
          {s.state === 'running' ? (
            <button className="btn" disabled={busy} data-testid="job-cancel" onClick={() => void cancel()}>
              Stop
            </button>
          ) : null}
          <button className="btn btn-primary" disabled={busy || s.state === 'running' || failed.length === 0} data-testid="job-rerun" onClick={() => void rerun()} title="Run again on the devices that did not end ok">
            {failed.length ? `Re-run ${failed.length} failed` : 'Re-run failed'}
          </button>
        </>
      }
    >
      <div className="job-body">
        <div className="job-progress" data-testid="job-progress" data-state={s.state} data-done={done} data-total={s.total}>
          <progress max={Math.max(1, s.total)} value={done} />
          <span>
            <strong>
              {done}/{s.total}
            </strong>{' '}
            done{table.running ? ` · ${table.running} running` : ''}
            {queued ? ` · ${queued} queued for offline devices` : ''}
            {s.state === 'cancelled' ? ' · stopped' : s.state === 'done' ? ' · finished' : ''}
          </span>
          <span className="row-spacer" />
          <div className="segmented segmented-small" role="radiogroup" aria-label="Show">
            <button role="radio" aria-checked={view === 'groups'} className={view === 'groups' ? 'on' : ''} data-testid="results-groups" onClick={() => setView('groups')}>
              Grouped
            </button>
            <button role="radio" aria-checked={view === 'table'} className={view === 'table' ? 'on' : ''} data-testid="results-table" onClick={() => setView('table')}>
              Per device
            </button>
          </div>
        </div>
        {error ? (
          <p className="form-error" role="alert">
            {error}
          </p>
        ) : null}
        {view === 'groups' ? <Groups groups={groups} /> : <Table rows={table.rows} />}
      </div>
    </Modal>
  );
}

/**
 * The `jobs` stream is the live feed; while the view is open on an unfinished job it also asks
 * for the whole table when nothing was heard for a while, so a dropped event or a window opened
 * late never leaves the table stuck.
 */
function useJobRefresh(jobId: string, unfinished: 'running' | 'queued' | null) {
  const store = useAppStore();
  const bridge = useBridge();
  useEffect(() => {
    if (!unfinished) return;
    const stale = unfinished === 'running' ? STALE_MS : QUEUED_STALE_MS;
    const ac = new AbortController();
    let busy = false;
    const tick = () => {
      const seen = store.getState().jobs.get(jobId);
      if (busy || (seen && Date.now() - seen.heard < stale)) return;
      busy = true;
      bridge
        .call('jobGet', { job: jobId }, { signal: ac.signal })
        .then((t) => store.getState().applyJob(t.job, t.results))
        .catch(() => undefined)
        .finally(() => (busy = false));
    };
    tick();
    const timer = setInterval(tick, Math.min(stale, STALE_MS * 2));
    return () => {
      clearInterval(timer);
      ac.abort();
    };
  }, [bridge, store, jobId, unfinished]);
}

type Groups = ReturnType<typeof groupResults>;

function Groups({ groups }: { groups: Groups }) {
  const store = useAppStore();
  const lines = summarizeGroups(groups, (t) => neutraliseControls(t, { maxChars: 2000 }), 80);
  if (groups.length === 0) return <p className="muted">No results yet.</p>;
  return (
    <ul className="result-groups" data-testid="result-groups">
      {groups.map((g, i) => (
        <li key={`${g.status}:${i}`} className={`result-group status-${g.status}`} data-testid="result-group" data-status={g.status} data-count={g.prefixes.length}>
          <details>
            <summary>
              <span className={`result-status status-${g.status}`}>{g.status}</span>
              <span className="result-summary">{lines[i]}</span>
              <button
                className="linkish"
                title="Select these devices in the list"
                onClick={(e) => {
                  e.preventDefault();
                  store.getState().setSelected(g.prefixes);
                }}
              >
                select
              </button>
            </summary>
            {g.text.includes('\n') || g.text.length > 80 ? <pre className="result-output">{neutraliseControls(g.text, { maxChars: 20_000 })}</pre> : null}
            <p className="result-devices">{g.prefixes.map(oneLine).join(', ')}</p>
          </details>
        </li>
      ))}
    </ul>
  );
}

function Table({ rows }: { rows: readonly JobResult[] }) {
  const [notOk, setNotOk] = useState(false);
  const picked = notOk ? rows.filter((r) => r.status !== 'ok') : rows;
  const shown = picked.slice(0, MAX_TABLE_ROWS);
  return (
    <div className="results-table-wrap">
      <label className="toggle results-filter">
        <input type="checkbox" checked={notOk} data-testid="results-not-ok" onChange={(e) => setNotOk(e.target.checked)} />
        <span>Only devices that did not end ok ({rows.filter((r) => r.status !== 'ok').length})</span>
      </label>
      <table className="results-table" data-testid="results-rows">
        <thead>
          <tr>
            <th>Device</th>
            <th>Status</th>
            <th>Output or error</th>
            <th className="num">Time</th>
          </tr>
        </thead>
        <tbody>
          {shown.map((r) => (
            <tr key={r.prefix} data-testid="result-row" data-prefix={r.prefix} data-status={r.status}>
              <td className="result-device">{oneLine(r.prefix)}</td>
              <td>
                <span className={`result-status status-${r.status}`}>{r.status}</span>
              </td>
              <td>
                <pre className="result-cell">{neutraliseControls(r.status === 'ok' ? (r.output ?? '') : (r.error ?? ''), { maxChars: 4000 })}</pre>
              </td>
              <td className="num">{r.status === 'running' || r.status === 'queued' ? '' : `${Math.round(r.ms)} ms`}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {picked.length > shown.length ? <p className="muted">Showing the first {shown.length} of {picked.length} devices; the exports hold all of them.</p> : null}
    </div>
  );
}
