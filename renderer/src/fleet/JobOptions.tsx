// The options every job on many devices shares: how many at once, how long each may take, and
// what happens to a device that is offline (fail at once, or wait in the host's queue).
import { useApp } from '../ui/context';

export interface JobOptionValues {
  concurrency: number;
  timeoutS: number;
  queueOffline: boolean;
}

export const DEFAULT_JOB_OPTIONS: JobOptionValues = { concurrency: 16, timeoutS: 30, queueOffline: false };

/** The bridge's jobStart fields for these options (the contract's ranges, clamped). */
export const jobArgs = (o: JobOptionValues) => ({
  concurrency: Math.min(256, Math.max(1, Math.round(o.concurrency) || 1)),
  timeoutMs: Math.min(600_000, Math.max(1_000, Math.round(o.timeoutS * 1000) || 30_000)),
  offline: o.queueOffline ? ('queue' as const) : ('fail' as const),
});

export function JobOptions({ value, onChange, showTiming = true }: { value: JobOptionValues; onChange: (v: JobOptionValues) => void; showTiming?: boolean }) {
  return (
    <div className="job-options">
      {showTiming ? (
        <>
          <label className="field field-inline">
            <span>At once</span>
            <input type="number" min={1} max={256} value={value.concurrency} data-testid="job-concurrency" onChange={(e) => onChange({ ...value, concurrency: Number(e.target.value) })} />
          </label>
          <label className="field field-inline">
            <span>Timeout per device (s)</span>
            <input type="number" min={1} max={600} value={value.timeoutS} data-testid="job-timeout" onChange={(e) => onChange({ ...value, timeoutS: Number(e.target.value) })} />
          </label>
        </>
      ) : null}
      <label className="toggle">
        <input type="checkbox" checked={value.queueOffline} data-testid="job-queue-offline" onChange={(e) => onChange({ ...value, queueOffline: e.target.checked })} />
        <span>Queue for offline devices (runs when each comes back)</span>
      </label>
    </div>
  );
}

/** "5 devices, 2 of them offline" for a dialog's first line. */
export function TargetLine({ prefixes }: { prefixes: readonly string[] }) {
  const offline = useApp((s) => prefixes.reduce((n, p) => (s.devices.get(p)?.presence === 'online' ? n : n + 1), 0));
  const n = prefixes.length;
  return (
    <p className="job-target" data-testid="job-target">
      <strong>
        {n} device{n === 1 ? '' : 's'}
      </strong>
      {offline > 0 ? <span className="tone-warn">, {offline} of them not online</span> : null}
    </p>
  );
}
