// "Push files…" on the selection: local files (picked or dropped) staged in the host once, then
// written to the same device path (one file) or folder (several) on every device, each write
// verified by the host. "Only files that differ" makes it a sync: a device that already holds
// a file byte for byte is left alone.
import { useState } from 'react';
import { DevicePath } from '../../../protocol/src';
import { oneLine } from '../../../protocol/src/control-chars';
import { useAppStore, useBridge } from '../ui/context';
import { bytes } from '../ui/format';
import { Modal } from '../ui/Modal';
import { stageBlob } from '../workspace/files/staging';
import { DropZone } from './DropZone';
import { errorText } from './fleet-errors';
import { DEFAULT_JOB_OPTIONS, JobOptions, jobArgs, TargetLine } from './JobOptions';

/** Files in one push: the contract's limit. */
const MAX_FILES = 200;

export function PutDialog({ prefixes }: { prefixes: readonly string[] }) {
  const store = useAppStore();
  const bridge = useBridge();
  const [files, setFiles] = useState<File[]>([]);
  const [path, setPath] = useState('');
  const [onlyChanged, setOnlyChanged] = useState(false);
  const [opts, setOpts] = useState(DEFAULT_JOB_OPTIONS);
  const [busy, setBusy] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const close = () => store.getState().setFleetDialog(null);
  const checked = DevicePath.safeParse(path.trim());
  const pathError = path.trim() && !checked.success ? (checked.error.issues[0]?.message ?? 'not a device path') : null;

  const several = files.length > 1;
  const take = (list: readonly File[]) => {
    const picked = list.slice(0, MAX_FILES);
    if (picked.length === 0) return;
    setFiles(picked);
    // The usual target is the device root (under the same name for one file); the user may change it.
    const suggested = files.length === 1 ? `/${files[0]!.name}` : '/';
    if (!path.trim() || path === suggested) setPath(picked.length === 1 ? `/${picked[0]!.name}` : '/');
  };
  /** Where each file goes: the path itself for one file, or the folder joined with its name. */
  const target = (dir: string, f: File) => (several ? `${dir.replace(/\/+$/, '')}/${f.name}` : dir);
  const start = async () => {
    if (files.length === 0 || !checked.success) return;
    setError(null);
    try {
      const items: { path: string; stage: string }[] = [];
      for (const [i, f] of files.entries()) {
        setBusy(several ? `Staging ${i + 1} of ${files.length}…` : 'Staging the file…');
        items.push({ path: target(checked.data, f), stage: await stageBlob(bridge, f, f.name) });
      }
      setBusy('Starting…');
      const { job } = await bridge.call('jobStart', { action: { kind: 'put', files: items, onlyChanged }, prefixes: [...prefixes], ...jobArgs(opts) });
      store.getState().applyJob(job, []);
      store.getState().setFleetDialog({ kind: 'results', job: job.id });
    } catch (e) {
      setError(errorText(e));
      setBusy(null);
    }
  };
  return (
    <Modal
      title="Push files to many devices"
      onClose={close}
      wide
      testId="put-dialog"
      footer={
        <>
          <button className="btn" onClick={close}>
            Cancel
          </button>
          <button className="btn btn-primary" disabled={busy !== null || files.length === 0 || !checked.success} data-testid="put-start" onClick={() => void start()}>
            {busy ?? `Push to ${prefixes.length}`}
          </button>
        </>
      }
    >
      <div className="job-body">
        <TargetLine prefixes={prefixes} />
        <DropZone onFiles={take} multiple filled={files.length > 0} choose={files.length ? 'Choose others…' : 'Choose files…'} testId="put-drop" inputTestId="put-input">
          {files.length === 1 ? (
            <span data-testid="put-file">
              <strong>{oneLine(files[0]!.name)}</strong> · {bytes(files[0]!.size)}
            </span>
          ) : several ? (
            <span data-testid="put-file">
              <strong>{files.length} files</strong> · {bytes(files.reduce((n, f) => n + f.size, 0))}
            </span>
          ) : (
            <span className="muted">Drop files here, or</span>
          )}
        </DropZone>
        <label className="field">
          <span>{several ? 'Folder on each device' : 'Path on each device'}</span>
          <input value={path} spellCheck={false} placeholder={several ? '/lib' : '/main.py'} data-testid="put-path" onChange={(e) => setPath(e.target.value)} aria-invalid={pathError ? true : undefined} />
          {pathError ? <small className="form-error">{pathError}</small> : <small>An existing file there is replaced; each write is read back and checked.</small>}
        </label>
        <label className="toggle" title="Like mqboard sync: a device that already has a file with the same SHA-256 is not written">
          <input type="checkbox" checked={onlyChanged} data-testid="put-only-changed" onChange={(e) => setOnlyChanged(e.target.checked)} />
          <span>Only files that differ (sync)</span>
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
