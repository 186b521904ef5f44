// "Run code…" on the selection: an expression (its value comes back) or statements (their
// output comes back), JavaScript on MQBoard runtime devices and MicroPython on original boards, run by the host on every device with a concurrency limit and a
// timeout each. Starting it switches the dialog to the job's results as they stream in.
import { useState } from 'react';
import { useAppStore, useBridge } from '../ui/context';
import { Modal } from '../ui/Modal';
import { errorText } from './fleet-errors';
import { DEFAULT_JOB_OPTIONS, JobOptions, jobArgs, TargetLine } from './JobOptions';

export function RunDialog({ prefixes }: { prefixes: readonly string[] }) {
  const store = useAppStore();
  const bridge = useBridge();
  const [code, setCode] = useState('');
  const [opts, setOpts] = useState(DEFAULT_JOB_OPTIONS);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const close = () => store.getState().setFleetDialog(null);
  const start = async () => {
    setBusy(true);
    setError(null);
    try {
      const { job } = await bridge.call('jobStart', { action: { kind: 'eval', code }, prefixes: [...prefixes], ...jobArgs(opts) });
      store.getState().applyJob(job, []);
      store.getState().setFleetDialog({ kind: 'results', job: job.id });
    } catch (e) {
      setError(errorText(e));
      setBusy(false);
    }
  };
  return (
    <Modal
      title="Run code on many devices"
      onClose={close}
      wide
      testId="run-dialog"
      footer={
        <>
          <button className="btn" onClick={close}>
            Cancel
          </button>
          <button className="btn btn-primary" disabled={busy || !code.trim()} data-testid="run-start" onClick={() => void start()}>
            {busy ? 'Starting…' : `Run on ${prefixes.length}`}
          </button>
        </>
      }
    >
      <div className="job-body">
        <TargetLine prefixes={prefixes} />
        <label className="field">
          <span>Code: an expression returns its value, statements what they print (JavaScript on the MQBoard runtime, MicroPython on original boards)</span>
          <textarea
            className="code-input"
            autoFocus
            rows={7}
            spellCheck={false}
            value={code}
            placeholder="1 + 1"
            data-testid="run-code"
            onChange={(e) => setCode(e.target.value)}
            onKeyDown={(e) => {
              if (e.key === 'Enter' && (e.ctrlKey || e.metaKey) && code.trim() && !busy) {
                e.preventDefault();
                void start();
              }
            }}
          />
          <small>Ctrl+Enter runs.</small>
        </label>
        <JobOptions value={opts} onChange={setOpts} />
        {error ? (
          <p className="form-error" role="alert" data-testid="run-error">
            {error}
          </p>
        ) : null}
      </div>
    </Modal>
  );
}
