// "Push file…" on the selection: one local file (picked or dropped) staged in the host once,
// then written to the same device path on every device, each write verified by the host.
import { useRef, useState } from 'react';
import { DevicePath } from '../../../protocol/src';
import { oneLine } from '../../../protocol/src/control-chars';
import { useAppStore, useBridge } from '../ui/context';
import { bytes } from '../ui/format';
import { Modal } from '../ui/Modal';
import { stageBlob } from '../workspace/files/staging';
import { errorText } from './fleet-errors';
import { DEFAULT_JOB_OPTIONS, JobOptions, jobArgs, TargetLine } from './JobOptions';

export function PutDialog({ prefixes }: { prefixes: readonly string[] }) {
  const store = useAppStore();
  const bridge = useBridge();
  const [file, setFile] = useState<File | null>(null);
  const [path, setPath] = useState('');
  const [opts, setOpts] = useState(DEFAULT_JOB_OPTIONS);
  const [busy, setBusy] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [over, setOver] = useState(false);
  const input = useRef<HTMLInputElement>(null);
  const close = () => store.getState().setFleetDialog(null);
  const checked = DevicePath.safeParse(path.trim());
  const pathError = path.trim() && !checked.success ? (checked.error.issues[0]?.message ?? 'not a device path') : null;

  const take = (f: File | undefined) => {
    if (!f) return;
    setFile(f);
    // The usual target is the device root under the same name; the user may change it.
    if (!path.trim() || path === `/${file?.name ?? ''}`) setPath(`/${f.name}`);
  };
  const start = async () => {
    if (!file || !checked.success) return;
    setError(null);
    try {
      setBusy('Staging the file…');
      const stage = await stageBlob(bridge, file, file.name);
      setBusy('Starting…');
      const { job } = await bridge.call('jobStart', { action: { kind: 'put', files: [{ path: checked.data, stage }] }, prefixes: [...prefixes], ...jobArgs(opts) });
      store.getState().applyJob(job, []);
      store.getState().setFleetDialog({ kind: 'results', job: job.id });
    } catch (e) {
      setError(errorText(e));
      setBusy(null);
    }
  };
  return (
    <Modal
      title="Push a file to many devices"
      onClose={close}
      wide
      testId="put-dialog"
      footer={
        <>
          <button className="btn" onClick={close}>
            Cancel
          </button>
          <button className="btn btn-primary" disabled={busy !== null || !file || !checked.success} data-testid="put-start" onClick={() => void start()}>
            {busy ?? `Push to ${prefixes.length}`}
          </button>
        </>
      }
    >
      <div className="job-body">
        <TargetLine prefixes={prefixes} />
        <div
          className={`drop-zone${over ? ' over' : ''}`}
          data-testid="put-drop"
          onDragOver={(e) => {
            e.preventDefault();
            setOver(true);
          }}
          onDragLeave={() => setOver(false)}
          onDrop={(e) => {
            e.preventDefault();
            setOver(false);
            take(e.dataTransfer.files[0]);
          }}
        >
          {file ? (
            <span data-testid="put-file">
              <strong>{oneLine(file.name)}</strong> · {bytes(file.size)}
            </span>
          ) : (
            <span className="muted">Drop one file here, or</span>
          )}
          <button className="btn btn-small" onClick={() => input.current?.click()}>
            {file ? 'Choose another…' : 'Choose a file…'}
          </button>
          <input ref={input} type="file" hidden data-testid="put-input" onChange={(e) => take(e.target.files?.[0])} />
        </div>
        <label className="field">
          <span>Path on each device</span>
          <input value={path} spellCheck={false} placeholder="/main.py" data-testid="put-path" onChange={(e) => setPath(e.target.value)} aria-invalid={pathError ? true : undefined} />
          {pathError ? <small className="form-error">{pathError}</small> : <small>An existing file there is replaced; each write is read back and checked.</small>}
        </label>
        <JobOptions value={opts} onChange={setOpts} />
        {error ? (
          <p className="form-error" role="alert" data-testid="put-error">
            {error}
          </p>
        ) : null}
      </div>
    </Modal>
  );
}
