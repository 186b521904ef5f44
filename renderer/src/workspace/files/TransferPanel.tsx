// The transfer queue of one device (or of all, in the OTA view): a progress bar per transfer
// with bytes, rate and ETA, cancel while it runs, retry when it failed or was cancelled, and
// dismiss once it is over. Rows come from the host's `transfers` stream; nothing runs here.
import { useMemo } from 'react';
import { useStore } from 'zustand';
import type { TransferInfo } from '../../../../protocol/src';
import { useApp, useAppStore, useBridge } from '../../ui/context';
import { bytes, duration } from '../../ui/format';
import { Icon } from '../../ui/icons';
import { FIcon } from './file-icons';
import { transfersStore } from './transfers-store';

const KIND_WORD: Record<TransferInfo['kind'], string> = { upload: 'Upload', download: 'Download', ota: 'Firmware' };

export function progressText(t: TransferInfo): string {
  const parts: string[] = [];
  parts.push(t.bytesTotal > 0 ? `${bytes(t.bytesDone)} of ${bytes(t.bytesTotal)}` : bytes(t.bytesDone));
  if (t.state === 'running' && t.rate > 0) parts.push(`${bytes(Math.round(t.rate))}/s`);
  if (t.state === 'running' && t.etaMs !== undefined) parts.push(`${duration(Math.ceil(t.etaMs / 1000))} left`);
  if (t.state === 'done' && t.started && t.ended) parts.push(`in ${duration(Math.max(0, (t.ended - t.started) / 1000))}`);
  return parts.join(' · ');
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

export function TransferPanel({ prefix }: { prefix: string }) {
  const filter = useMemo(() => (t: TransferInfo) => t.prefix === prefix && t.kind !== 'ota', [prefix]);
  const rows = useTransfers(filter);
  const bridge = useBridge();
  const active = rows.filter((t) => t.state === 'running' || t.state === 'queued').length;
  const finished = rows.filter((t) => t.state === 'done');
  const shell = useApp((s) => s.app?.shell);
  return (
    <section className="xpanel" data-testid="transfer-panel" aria-label="Transfers">
      <header className="xpanel-head">
        <h3>Transfers</h3>
        <span className="count">{active ? `${active} active` : rows.length ? `${rows.length}` : 'none'}</span>
        <span className="row-spacer" />
        {finished.length ? (
          <button className="btn btn-ghost btn-small" onClick={() => finished.forEach((t) => void bridge.call('xferDismiss', { transfer: t.id }).catch(() => undefined))}>
            Clear finished
          </button>
        ) : null}
      </header>
      <div className="xlist">
        {rows.length === 0 ? (
          <p className="muted xempty">Uploads and downloads appear here. {shell === 'web' ? 'Drop files or folders on a folder to upload them.' : 'Drop files on a folder, or use Upload.'}</p>
        ) : (
          rows.map((t) => <TransferRow key={t.id} t={t} />)
        )}
      </div>
    </section>
  );
}
