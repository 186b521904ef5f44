// "Reset…" on the selection: normal, safe or soft, behind a confirmation that names how many
// devices restart, since every open session on them ends.
import { useState } from 'react';
import type { ResetMode } from '../../../protocol/src';
import { useAppStore, useBridge } from '../ui/context';
import { Modal } from '../ui/Modal';
import { errorText } from './fleet-errors';
import { DEFAULT_JOB_OPTIONS, JobOptions, jobArgs, TargetLine } from './JobOptions';

const MODES: { mode: ResetMode; label: string; what: string }[] = [
  { mode: 'normal', label: 'Normal', what: 'restart and run the application' },
  { mode: 'safe', label: 'Safe mode', what: 'restart from /safemode with only remote access running' },
  { mode: 'soft', label: 'Soft', what: 'restart the runtime in the same mode' },
];

export function ResetDialog({ prefixes }: { prefixes: readonly string[] }) {
  const store = useAppStore();
  const bridge = useBridge();
  const [mode, setMode] = useState<ResetMode>('normal');
  const [opts, setOpts] = useState(DEFAULT_JOB_OPTIONS);
  const [confirming, setConfirming] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const close = () => store.getState().setFleetDialog(null);
  const n = prefixes.length;
  const devices = `${n} device${n === 1 ? '' : 's'}`;
  const chosen = MODES.find((m) => m.mode === mode)!;
  const start = async () => {
    setBusy(true);
    setError(null);
    try {
      const { job } = await bridge.call('jobStart', { action: { kind: 'reset', mode }, prefixes: [...prefixes], ...jobArgs(opts) });
      store.getState().applyJob(job, []);
      store.getState().setFleetDialog({ kind: 'results', job: job.id });
    } catch (e) {
      setError(errorText(e));
      setBusy(false);
      setConfirming(false);
    }
  };
  return (
    <Modal
      title={confirming ? `Reset ${devices}${mode === 'normal' ? '' : mode === 'safe' ? ' into safe mode' : ' (soft)'}?` : 'Reset many devices'}
      onClose={close}
      testId="reset-dialog"
      footer={
        confirming ? (
          <>
            <button className="btn" onClick={() => setConfirming(false)} data-testid="reset-back">
              Back
            </button>
            <button className={`btn ${mode === 'safe' ? 'btn-danger' : 'btn-primary'}`} disabled={busy} data-testid="reset-confirm" autoFocus onClick={() => void start()}>
              {busy ? 'Starting…' : `Reset ${devices}`}
            </button>
          </>
        ) : (
          <>
            <button className="btn" onClick={close}>
              Cancel
            </button>
            <button className="btn btn-primary" data-testid="reset-next" onClick={() => setConfirming(true)}>
              Continue…
            </button>
          </>
        )
      }
    >
      {confirming ? (
        <p data-testid="reset-confirm-text">
          <strong>{devices}</strong> will {chosen.what}. Open sessions on them end.
        </p>
      ) : (
        <>
          <TargetLine prefixes={prefixes} />
          <div className="radio-list" role="radiogroup" aria-label="Reset mode">
            {MODES.map((m) => (
              <label key={m.mode} className="toggle">
                <input type="radio" name="reset-mode" checked={mode === m.mode} data-testid={`reset-mode-${m.mode}`} onChange={() => setMode(m.mode)} />
                <span>
                  <strong>{m.label}</strong>: {m.what}
                </span>
              </label>
            ))}
          </div>
          <JobOptions value={opts} onChange={setOpts} showTiming={false} />
        </>
      )}
      {error ? (
        <p className="form-error" role="alert">
          {error}
        </p>
      ) : null}
    </Modal>
  );
}
