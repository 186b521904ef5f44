// The OTA tab: the device's current firmware and slots, an image
// dropped anywhere on the workspace or chosen here, what the host found out about it (size,
// SHA-256, target slot, versions, refusal), a confirmed stream with progress and cancel, and the
// reboot followed until the device is back with its new version, confirmed or rolled back.
import { useEffect, useMemo, useRef, useState } from 'react';
import { useStore } from 'zustand';
import type { DeviceState, TransferInfo } from '../../../../protocol/src';
import { ConfirmDialog } from '../../ui/ConfirmDialog';
import { useApp, useAppStore, useBridge } from '../../ui/context';
import { bytes } from '../../ui/format';
import { Icon } from '../../ui/icons';
import { FIcon } from '../files/file-icons';
import { TransferRow, useTransfers } from '../files/TransferPanel';
import '../files/files.css';
import './ota.css';
import { otaStore, rebootProgress, type OtaSession } from './ota-session';

export function OtaTab({ prefix }: { prefix: string }) {
  const bridge = useBridge();
  const app = useAppStore();
  const d = useApp((s) => s.devices.get(prefix));
  const shell = useApp((s) => s.app?.shell);
  const ota = otaStore(bridge);
  const session = useStore(ota, (s) => s.sessions.get(prefix));
  const input = useRef<HTMLInputElement>(null);
  const [confirm, setConfirm] = useState<'flash' | 'reboot' | null>(null);
  const [over, setOver] = useState(false);
  const filter = useMemo(() => (t: TransferInfo) => t.id === session?.transfer, [session?.transfer]);
  const transfer = useTransfers(filter)[0];

  // The stream's end moves the session on (the host's transfer row is the source of truth).
  const ended = session?.phase === 'sending' && transfer && (transfer.state === 'done' || transfer.state === 'failed' || transfer.state === 'cancelled') ? transfer : undefined;
  useEffect(() => {
    if (ended) ota.set(prefix, ended.state === 'done' ? { phase: 'written' } : { phase: 'failed', error: ended.error?.message ?? ended.state });
  }, [ended, ota, prefix]);

  const choose = () => {
    if (shell === 'electron') {
      bridge
        .call('otaPick', { prefix })
        .then((info) => info && ota.loaded(prefix, info))
        .catch((e: unknown) => app.getState().toast('error', e instanceof Error ? e.message : String(e)));
    } else input.current?.click();
  };

  const flash = async () => {
    setConfirm(null);
    if (!session?.info) return;
    try {
      const { transfer: id } = await bridge.call('otaStart', { prefix, stage: session.info.stage });
      ota.set(prefix, { phase: 'sending', transfer: id });
    } catch (e) {
      ota.set(prefix, { phase: 'failed', error: e instanceof Error ? e.message : String(e) });
    }
  };

  const reboot = async () => {
    setConfirm(null);
    const sentAt = Date.now();
    ota.set(prefix, { phase: 'rebooting', reboot: { sentAt, activeBefore: d?.ota?.active, versionBefore: d?.firmware, expected: session?.info?.imageVersion } });
    try {
      await bridge.call('resetDevice', { prefix, mode: 'normal' });
    } catch (e) {
      ota.set(prefix, { phase: 'failed', error: `Reset failed: ${e instanceof Error ? e.message : String(e)}` });
    }
  };

  return (
    <div
      className={`ota${over ? ' drop-over' : ''}`}
      data-testid="ota-tab"
      onDragEnter={() => setOver(true)}
      onDragLeave={(e) => {
        if (!e.currentTarget.contains(e.relatedTarget as Node | null)) setOver(false);
      }}
      onDrop={() => setOver(false)}
    >
      <CurrentFirmware d={d} />

      {!session || session.phase === 'failed' ? (
        <div className="ota-drop" data-testid="ota-dropzone">
          <FIcon name="chip" size={28} />
          <div>
            <strong>Drop a firmware image</strong> anywhere on this device’s workspace, or{' '}
            <button className="linkish" onClick={choose} data-testid="ota-choose">
              choose a file
            </button>
            .
            <div className="muted small">
              {d?.kind === 'original' ? 'MicroPython firmware for the board, streamed with SEQ acks.' : 'An mqboard-app/1 bundle (tar with manifest.json).'}
              {d?.capabilities?.maxImage ? ` At most ${bytes(d.capabilities.maxImage)}.` : ''}
            </div>
          </div>
          <input
            ref={input}
            type="file"
            hidden
            data-testid="ota-input"
            onChange={(e) => {
              const f = e.target.files?.[0];
              if (f) void ota.load(prefix, f);
              e.target.value = '';
            }}
          />
        </div>
      ) : null}

      {session?.phase === 'failed' ? (
        <div className="callout callout-bad" data-testid="ota-error">
          <Icon name="alert" />
          <div>
            <strong>{session.name || 'Firmware update'}:</strong> {session.error}
          </div>
        </div>
      ) : null}

      {session?.phase === 'staging' ? <div className="card ota-card muted">Reading {session.name}…</div> : null}

      {session?.info && session.phase !== 'failed' ? <ImageCard s={session} d={d} /> : null}

      {session?.phase === 'ready' && session.info ? (
        <div className="ota-actions">
          <button className="btn" onClick={() => ota.set(prefix, null)} data-testid="ota-discard">
            Discard
          </button>
          <button className="btn btn-primary" disabled={!!session.info.refused || d?.presence !== 'online'} onClick={() => setConfirm('flash')} data-testid="ota-start">
            <Icon name="upload" size={14} /> Send to {session.info.targetSlot ? `slot ${session.info.targetSlot}` : 'device'}
          </button>
        </div>
      ) : null}

      {transfer && (session?.phase === 'sending' || session?.phase === 'written' || session?.phase === 'rebooting') ? (
        <div className="xpanel ota-progress" data-testid="ota-progress">
          <TransferRow t={transfer} />
        </div>
      ) : null}

      {session?.phase === 'written' ? (
        <div className="callout callout-ok ota-written" data-testid="ota-done">
          <Icon name="check" />
          <div>
            <strong>Image written{session.info?.targetSlot ? ` to slot ${session.info.targetSlot}` : ''} and verified.</strong> It runs after the next reboot; if it never reaches the
            watchdog’s all-OK, the device rolls back by itself.
          </div>
          <button className="btn btn-primary" onClick={() => setConfirm('reboot')} data-testid="ota-reboot">
            <Icon name="refresh" size={14} /> Reboot into new firmware
          </button>
        </div>
      ) : null}

      {session?.phase === 'rebooting' && session.reboot ? <RebootFollow s={session} d={d} onDone={() => ota.set(prefix, null)} /> : null}

      {confirm === 'flash' && session?.info ? (
        <ConfirmDialog
          title={`Send ${session.info.name} to ${prefix}?`}
          body={
            <p>
              {bytes(session.info.size)} go to {session.info.targetSlot ? `the inactive slot ${session.info.targetSlot}` : 'the board'}. The running firmware is not touched until you reboot.
            </p>
          }
          confirm="Send image"
          onCancel={() => setConfirm(null)}
          onConfirm={() => void flash()}
        />
      ) : null}
      {confirm === 'reboot' ? (
        <ConfirmDialog
          title="Reboot into the new firmware?"
          body={<p>{prefix} restarts now. Open sessions on it end; the app follows the device until it is back.</p>}
          confirm="Reboot"
          onCancel={() => setConfirm(null)}
          onConfirm={() => void reboot()}
        />
      ) : null}
    </div>
  );
}

function CurrentFirmware({ d }: { d: DeviceState | undefined }) {
  return (
    <div className="card ota-card ota-current" data-testid="ota-current">
      <h3>Running firmware</h3>
      <div className="ota-current-row">
        <div>
          <div className="ota-version" data-testid="ota-current-version">
            {d?.firmware ?? (d?.kind === 'original' ? 'MicroPython (no version reported)' : '—')}
          </div>
          <div className="muted small">
            {d?.kind === 'original' ? 'Original MQBoard board' : d?.runtime ? `${d.runtime.kind} ${d.runtime.version}` : ''}
            {d?.bootReason ? ` · booted: ${d.bootReason}` : ''}
          </div>
        </div>
        {d?.ota ? (
          <div className="slots">
            {d.ota.slots.map((s) => (
              <div key={s.name} className={`slot${s.name === d.ota?.active ? ' active' : ''}`} data-testid="ota-slot" data-slot={s.name}>
                <span className="slot-name">slot {s.name}</span>
                <span className="mono">{s.version ?? 'empty'}</span>
                {s.name === d.ota?.active ? (
                  <span className={`pill small ${d.ota.confirmed ? 'pill-ok' : 'pill-warn'}`} data-testid="ota-confirmed" data-confirmed={d.ota.confirmed}>
                    {d.ota.confirmed ? 'confirmed' : 'on trial'}
                  </span>
                ) : (
                  <span className="pill small pill-muted">inactive</span>
                )}
              </div>
            ))}
          </div>
        ) : null}
      </div>
    </div>
  );
}

function ImageCard({ s, d }: { s: OtaSession; d: DeviceState | undefined }) {
  const i = s.info!;
  return (
    <div className="card ota-card" data-testid="ota-info" data-refused={!!i.refused}>
      <h3>Firmware image</h3>
      <dl className="ota-dl">
        <dt>File</dt>
        <dd className="mono">{i.name}</dd>
        <dt>Size</dt>
        <dd data-testid="ota-size" data-bytes={i.size}>
          {bytes(i.size)} <span className="muted">({i.size.toLocaleString()} bytes{i.maxImage ? ` of at most ${bytes(i.maxImage)}` : ''})</span>
        </dd>
        <dt>SHA-256</dt>
        <dd className="mono sha" data-testid="ota-sha">
          {i.sha256}
        </dd>
        <dt>Version</dt>
        <dd data-testid="ota-versions">
          <span className="mono">{i.currentVersion ?? d?.firmware ?? '—'}</span> → <span className="mono strong">{i.imageVersion ?? (d?.kind === 'original' ? 'MicroPython image' : '?')}</span>
        </dd>
        <dt>Target</dt>
        <dd data-testid="ota-target-slot">{i.targetSlot ? `slot ${i.targetSlot} (inactive)` : 'the board’s OTA partition'}</dd>
      </dl>
      {i.refused ? (
        <div className="callout callout-bad" data-testid="ota-refused">
          <Icon name="alert" />
          <div>
            <strong>This image cannot be sent:</strong> {i.refused}
          </div>
        </div>
      ) : null}
    </div>
  );
}

function RebootFollow({ s, d, onDone }: { s: OtaSession; d: DeviceState | undefined; onDone: () => void }) {
  const w = s.reboot!;
  const p = rebootProgress(d, w);
  const step = (ok: boolean, label: string, testId: string, detail?: string) => (
    <li className={ok ? 'ok' : 'wait'} data-testid={testId} data-ok={ok}>
      <span className="step-dot">{ok ? <Icon name="check" size={12} /> : null}</span>
      {label}
      {detail ? <span className="muted"> · {detail}</span> : null}
    </li>
  );
  return (
    <div className="card ota-card" data-testid="ota-follow" data-back={p.back} data-rolled-back={p.rolledBack}>
      <h3>Reboot</h3>
      <ul className="steps">
        {step(true, 'Reset sent', 'ota-step-reset')}
        {step(p.back, p.back ? 'Device is back online' : 'Waiting for the device to come back…', 'ota-back', p.bootReason ? `boot reason: ${p.bootReason}` : undefined)}
        {p.back
          ? step(true, `Running ${p.version ?? 'an unknown version'}`, 'ota-version', p.active ? `slot ${p.active}` : undefined)
          : null}
        {p.back && d?.ota
          ? step(p.confirmed === true, p.confirmed ? 'Confirmed by the watchdog’s all-OK' : 'Waiting for the watchdog’s all-OK to confirm it…', 'ota-step-confirmed')
          : null}
      </ul>
      {p.rolledBack ? (
        <div className="callout callout-bad" data-testid="ota-rollback">
          <Icon name="alert" />
          <div>
            <strong>Rolled back.</strong> The device is running {p.version ?? 'its previous firmware'} from slot {p.active}; the new image did not come up.
          </div>
        </div>
      ) : null}
      {p.back && !p.rolledBack && w.expected && p.version === w.expected ? (
        <div className="callout callout-ok" data-testid="ota-success">
          <Icon name="check" />
          <div>
            Updated from <span className="mono">{w.versionBefore ?? '—'}</span> to <span className="mono strong">{p.version}</span>.
          </div>
        </div>
      ) : null}
      {p.back ? (
        <div className="ota-actions">
          <button className="btn" onClick={onDone} data-testid="ota-finish">
            Done
          </button>
        </div>
      ) : null}
    </div>
  );
}
