// The transfer queue of one device (or of all, in the OTA view): a progress bar per transfer
// with bytes, rate and ETA, cancel while it runs, retry when it failed or was cancelled, and
// dismiss once it is over. Rows come from the host's `transfers` stream; nothing runs here.
import { useMemo, useState, type DragEvent } from 'react';
import { useStore } from 'zustand';
import type { TransferInfo } from '../../../../protocol/src';
import { useApp, useAppStore, useBridge } from '../../ui/context';
import { bytes, duration } from '../../ui/format';
import { Icon } from '../../ui/icons';
import { FIcon } from './file-icons';
import { takeDropped } from './dropped';
import { transfersStore } from './transfers-store';
import { uploadTree } from './upload';

const KIND_WORD: Record<TransferInfo['kind'], string> = { upload: 'Upload', download: 'Download', ota: 'Firmware' };

export function progressText(t: TransferInfo): string {
  const parts: string[] = [];
  parts.push(t.bytesTotal > 0 ? `${bytes(t.bytesDone)} of ${bytes(t.bytesTotal)}` : bytes(t.bytesDone));
  if (t.state === 'running' && t.rate > 0) parts.push(`${bytes(Math.round(t.rate))}/s`);
  // Under a second left is not worth a figure that would read "0s left".
  if (t.state === 'running' && t.etaMs !== undefined && t.etaMs >= 1000) parts.push(`${duration(Math.ceil(t.etaMs / 1000))} left`);
  if (t.state === 'done' && t.started && t.ended) parts.push(`in ${took(t.ended - t.started)}`);
  return parts.join(' · ');
}

/** "0.4 s" below ten seconds (a fast transfer never says "in 0s"), then the usual duration. */
function took(ms: number): string {
  const s = Math.max(0, ms) / 1000;
  if (s < 10) return `${s < 0.1 ? s.toFixed(2) : s.toFixed(1)} s`;
  return duration(s);
}

export function useTransfers(filter: (t: TransferInfo) => boolean): TransferInfo[] {
  const bridge = useBridge();
  const store = transfersStore(bridge);
  const rows = useStore(store, (s) => s.rows);
  return useMemo(() => [...rows.values()].filter(filter).sort((a, b) => b.created - a.created), [rows, filter]);
}

export function TransferRow({ t }: { t: TransferInfo }) {
  const bridge = useBridge();
  const app = useAppStore();
  const delivered = useStore(transfersStore(bridge), (s) => s.delivered.get(t.id));
  const act = (op: 'xferCancel' | 'xferRetry' | 'xferDismiss') => {
    bridge.call(op, { transfer: t.id }).catch((e: unknown) => app.getState().toast('error', e instanceof Error ? e.message : String(e)));
  };
  const pct = t.bytesTotal > 0 ? Math.min(100, (t.bytesDone / t.bytesTotal) * 100) : t.state === 'done' ? 100 : 0;
  const name = t.path.split('/').filter(Boolean).pop() ?? t.path;
  return (
    <div className={`xrow xrow-${t.state}`} data-testid="transfer-row" data-state={t.state} data-kind={t.kind} data-path={t.path} data-id={t.id}>
      <span className={`xkind xkind-${t.kind}`} title={KIND_WORD[t.kind]}>
        {t.kind === 'download' ? <Icon name="download" size={14} /> : t.kind === 'upload' ? <Icon name="upload" size={14} /> : <FIcon name="chip" size={14} />}
      </span>
      <div className="xmain">
        <div className="xline">
          <span className="xname" title={`${t.prefix}:${t.path}`}>
            {name}
            {t.folder ? '.zip' : ''}
          </span>
          <span className="xpath muted">{t.kind === 'ota' ? `→ ${t.prefix}` : t.path}</span>
          <span className="xstate" data-testid="transfer-state">
            {t.state === 'running' ? `${Math.floor(pct)}%` : t.state === 'done' ? (delivered ? 'Saved' : t.savedTo ? 'Saved' : 'Done') : t.state === 'queued' ? 'Queued' : t.state === 'cancelled' ? 'Cancelled' : 'Failed'}
          </span>
        </div>
        <div className="xbar" role="progressbar" aria-valuemin={0} aria-valuemax={100} aria-valuenow={Math.round(pct)}>
          <div className="xbar-fill" style={{ width: `${pct}%` }} />
        </div>
        <div className="xsub">
          {t.state === 'failed' && t.error ? <span className="danger-text" data-testid="transfer-error">{t.error.message}</span> : <span className="muted" data-testid="transfer-progress">{progressText(t)}</span>}
          {t.savedTo ? <span className="muted" title={t.savedTo}> · {t.savedTo}</span> : null}
        </div>
      </div>
      <div className="xactions">
        {t.state === 'running' || t.state === 'queued' ? (
          <button className="btn btn-small" onClick={() => act('xferCancel')} data-testid="transfer-cancel">
            Cancel
          </button>
        ) : null}
        {t.retryable ? (
          <button className="btn btn-small" onClick={() => act('xferRetry')} data-testid="transfer-retry">
            <FIcon name="retry" size={13} /> Retry
          </button>
        ) : null}
        {t.state !== 'running' && t.state !== 'queued' ? (
          <button className="ibtn" title="Remove from the list" aria-label="Dismiss" onClick={() => act('xferDismiss')} data-testid="transfer-dismiss">
            <Icon name="close" size={12} />
          </button>
        ) : null}
      </div>
    </div>
  );
}

/**
 * The device's transfer queue. It is also a drop target: files dropped on it upload into `dir`
 * (the file browser's current folder), as the panel says; a drop here never reaches the
 * workspace's firmware drop.
 */
export function TransferPanel({ prefix, dir = '/' }: { prefix: string; dir?: string }) {
  const filter = useMemo(() => (t: TransferInfo) => t.prefix === prefix && t.kind !== 'ota', [prefix]);
  const rows = useTransfers(filter);
  const bridge = useBridge();
  const app = useAppStore();
  const active = rows.filter((t) => t.state === 'running' || t.state === 'queued').length;
  const finished = rows.filter((t) => t.state === 'done');
  const shell = useApp((s) => s.app?.shell);
  const [over, setOver] = useState(false);
  const [preparing, setPreparing] = useState<string | null>(null);
  const hasFiles = (e: DragEvent) => Array.from(e.dataTransfer.types).includes('Files');
  const onDragOver = (e: DragEvent) => {
    if (!hasFiles(e)) return;
    e.preventDefault();
    e.stopPropagation();
    e.dataTransfer.dropEffect = 'copy';
    setOver(true);
  };
  const onDrop = (e: DragEvent) => {
    if (!hasFiles(e)) return;
    e.preventDefault();
    e.stopPropagation();
    setOver(false);
    const fail = (what: string) => (err: unknown) => app.getState().toast('error', `${what}: ${err instanceof Error ? err.message : String(err)}`);
    // The entries must be taken while the drop event runs (dropped.ts).
    void takeDropped(e.dataTransfer).then(async (local) => {
      if (local.files.length === 0 && local.dirs.length === 0) return;
      setPreparing(`Preparing ${local.files.length} file${local.files.length === 1 ? '' : 's'}…`);
      try {
        await uploadTree(bridge, prefix, dir, local, (n, total) => setPreparing(`Preparing ${n} of ${total}…`));
      } catch (err) {
        fail('Upload')(err);
      } finally {
        setPreparing(null);
      }
    }, fail('Reading the dropped files'));
  };
  return (
    <section
      className={`xpanel${over ? ' drop-on' : ''}`}
      data-testid="transfer-panel"
      data-drop-path={dir}
      aria-label="Transfers"
      onDragOver={onDragOver}
      onDragLeave={(e) => {
        if (!e.currentTarget.contains(e.relatedTarget as Node | null)) setOver(false);
      }}
      onDrop={onDrop}
    >
      <header className="xpanel-head">
        <h3>Transfers</h3>
        <span className="count">{active ? `${active} active` : rows.length ? `${rows.length}` : 'none'}</span>
        {preparing ? (
          <span className="muted small" data-testid="transfer-preparing">
            {preparing}
          </span>
        ) : over ? (
          <span className="muted small">Drop to upload into {dir}</span>
        ) : null}
        <span className="row-spacer" />
        {finished.length ? (
          <button className="btn btn-ghost btn-small" onClick={() => finished.forEach((t) => void bridge.call('xferDismiss', { transfer: t.id }).catch(() => undefined))}>
            Clear finished
          </button>
        ) : null}
      </header>
      <div className="xlist">
        {rows.length === 0 ? (
          <p className="muted xempty">
            Uploads and downloads appear here. Drop files or folders here to upload them into <span className="mono">{dir}</span>, or on a folder{shell === 'web' ? '' : ', or use Upload'}.
          </p>
        ) : (
          rows.map((t) => <TransferRow key={t.id} t={t} />)
        )}
      </div>
    </section>
  );
}
