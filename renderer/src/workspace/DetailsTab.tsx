// A device's details: status fields, capabilities, crash records, and the actions (reset into
// normal or safe mode, soft reset, forget), each behind a confirmation. Its tags (its own, and
// the user's, editable) and the commands queued for it while it is offline or asleep.
import { useEffect, useState } from 'react';
import type { CrashRecord, DeviceState } from '../../../protocol/src';
import { parseTagInput } from '../fleet/tag-input';
import { TagChips } from '../ui/DeviceRow';
import { neutraliseControls, oneLine } from '../../../protocol/src/control-chars';
import { BridgeCallError } from '../bridge/client';
import { useApp, useAppStore, useBridge, useDeviceLog } from '../ui/context';
import { ConfirmDialog } from '../ui/ConfirmDialog';
import { InstallMicroPythonCard } from './InstallMicroPython';
import { ago, bytes, clock, duration, forHowLong } from '../ui/format';
import { Icon } from '../ui/icons';
import { presenceTone, presenceWord, SleepNote } from '../ui/DeviceRow';
import { isAsleep } from '../ui/sleep';
import { useNow } from '../ui/use-now';

type Action = { kind: 'reset'; mode: 'normal' | 'safe' | 'soft' } | { kind: 'forget' };

const ACTION_TEXT: Record<string, { title: string; body: string; confirm: string; danger?: boolean }> = {
  normal: { title: 'Reset into normal mode?', body: 'The device restarts and runs its application. Open sessions on it end.', confirm: 'Reset to normal' },
  safe: { title: 'Reset into safe mode?', body: 'The device restarts from /safemode with only remote access running. Use this to repair a broken application.', confirm: 'Reset to safe mode', danger: true },
  soft: { title: 'Soft reset?', body: 'The device restarts its runtime in the same mode. Open sessions on it end.', confirm: 'Soft reset' },
  forget: { title: 'Forget this device?', body: 'It disappears from the list until it announces itself again. Nothing is sent to the device.', confirm: 'Forget', danger: true },
};

export function DetailsTab({ prefix }: { prefix: string }) {
  const d = useApp((s) => s.devices.get(prefix));
  const crashes = useApp((s) => s.crashes.get(prefix));
  const store = useAppStore();
  const bridge = useBridge();
  const [action, setAction] = useState<Action | null>(null);
  const [busy, setBusy] = useState(false);
  const crashCount = d?.crashCount ?? 0;

  // Crash records are fetched when the workspace opens; the `crashes` stream keeps them fresh.
  useEffect(() => {
    const ac = new AbortController();
    bridge
      .call('getDevice', { prefix }, { signal: ac.signal })
      .then((r) => store.getState().setCrashes(prefix, r.crashes))
      .catch((e: unknown) => {
        if (!(e instanceof BridgeCallError && (e.code === 'cancelled' || e.code === 'not-found'))) console.warn(e);
      });
    return () => ac.abort();
  }, [bridge, store, prefix, crashCount]);

  if (!d) {
    return (
      <div className="empty">
        <p>{prefix} is no longer in the device list.</p>
      </div>
    );
  }

  const run = async (a: Action) => {
    setBusy(true);
    try {
      if (a.kind === 'forget') {
        await bridge.call('forgetDevice', { prefix });
        store.getState().closeDevice(prefix);
        store.getState().toast('info', `Forgot ${prefix}`);
      } else {
        await bridge.call('resetDevice', { prefix, mode: a.mode });
        store.getState().toast('success', `${prefix}: ${a.mode === 'soft' ? 'soft reset' : `reset into ${a.mode} mode`} sent`);
      }
    } catch (e) {
      store.getState().toast('error', `${prefix}: ${e instanceof Error ? e.message : String(e)}`);
    } finally {
      setBusy(false);
      setAction(null);
    }
  };

  const online = d.presence === 'online';
  const text = action ? ACTION_TEXT[action.kind === 'forget' ? 'forget' : action.mode]! : null;
  return (
    <div className="details" data-testid="device-details">
      <header className="details-header">
        <div>
          <h2 className="details-title">{oneLine(d.prefix)}</h2>
          <div className="details-sub">
            <StatusLine d={d} />
          </div>
        </div>
        <div className="details-actions">
          <button className="btn" disabled={!online || busy} data-testid="reset-normal" onClick={() => setAction({ kind: 'reset', mode: 'normal' })}>
            <Icon name="refresh" /> Reset to normal
          </button>
          <button className="btn btn-warn" disabled={!online || busy} data-testid="reset-safe" onClick={() => setAction({ kind: 'reset', mode: 'safe' })}>
            <Icon name="shield" /> Safe mode
          </button>
          <button className="btn" disabled={!online || busy} data-testid="reset-soft" onClick={() => setAction({ kind: 'reset', mode: 'soft' })}>
            Soft reset
          </button>
          <button className="btn btn-ghost" data-testid="forget-device" disabled={busy} onClick={() => setAction({ kind: 'forget' })} title="Forget device">
            <Icon name="trash" />
          </button>
        </div>
      </header>

      {d.mode === 'safe' ? (
        <div className="callout callout-warn" data-testid="safe-mode-callout">
          <Icon name="shield" />
          <div>
            <strong>Running in safe mode.</strong> The application is not running; remote access works from <code>/safemode</code>. Reset to normal mode once the application is fixed.
          </div>
        </div>
      ) : null}

      <div className="cards">
        <Card title="Status">
          <Field label="Presence" value={isAsleep(d) ? <SleepNote wake={d.wake} /> : <span className={presenceTone(d)}>{presenceWord(d)}</span>} />
          <Field label="Since" value={clock(d.since)} />
          <Field label="Last seen" value={d.lastSeen ? <Ago ms={d.lastSeen} /> : '—'} />
          <Field label="Mode" value={d.mode ? <span className={d.mode === 'safe' ? 'tone-warn strong' : ''} data-testid="detail-mode">{d.mode === 'safe' ? 'Safe mode' : 'Normal'}</span> : '—'} />
          <Field label="Uptime" value={online && d.uptime !== undefined ? duration(d.uptime) : '—'} />
          <Field label="Free memory" value={d.freeMem !== undefined ? bytes(d.freeMem) : '—'} />
          <Field label="Boot reason" value={d.bootReason ?? '—'} />
          <Field label="Found by" value={SOURCE[d.source]} />
        </Card>
        <Card title="Software">
          <Field label="Kind" value={d.kind === 'original' ? 'Original MQBoard (MicroPython)' : d.kind === 'mqboard' ? 'MQBoard runtime' : 'Unknown'} />
          <Field label="Runtime" value={d.runtime ? oneLine(`${d.runtime.kind} ${d.runtime.version}`) : '—'} />
          <Field label="Firmware" value={d.firmware !== undefined ? oneLine(d.firmware) : '—'} />
          {d.modules ? <Field label="Modules" value={<span data-testid="detail-modules">{oneLine(d.modules.join(', ')) || 'none started'}</span>} /> : null}
          <Field label="Tags" value={<TagEditor prefix={prefix} own={d.tags} />} />
          {d.ota ? (
            <>
              <Field label="Active slot" value={`${d.ota.active}${d.ota.confirmed ? ' (confirmed)' : ' (not yet confirmed)'}`} />
              {d.ota.slots.map((s) => (
                <Field key={s.name} label={`Slot ${s.name}`} value={s.version ?? 'empty'} />
              ))}
            </>
          ) : null}
        </Card>
        <Card title="Capabilities">
          {d.capabilities ? (
            <>
              <Field label="Max chunk" value={bytes(d.capabilities.maxChunk)} />
              <Field label="Max image" value={d.capabilities.maxImage !== undefined ? bytes(d.capabilities.maxImage) : '—'} />
              <Field label="Terminal" value={d.capabilities.terminal ? 'yes' : 'no'} />
              <Field label="Acked put / get" value={`${d.capabilities.putAck ? 'yes' : 'no'} / ${d.capabilities.getAck ? 'yes' : 'no'}`} />
              <div className="chips">
                {d.capabilities.commands.map((c) => (
                  <span key={c} className="chip">
                    {c}
                  </span>
                ))}
              </div>
            </>
          ) : (
            <p className="muted">Not advertised. Original boards accept eval, get, put and ota.</p>
          )}
        </Card>
      </div>

      {d.kind === 'original' ? <InstallMicroPythonCard prefix={prefix} online={online} firmware={d.firmware} /> : null}

      <QueuedCommands prefix={prefix} />

      <RecentLog prefix={prefix} />

      <section className="crashes" data-testid="crash-records">
        <h3>
          Crash records <span className="count">{crashes?.length ?? d.crashCount ?? 0}</span>
        </h3>
        {crashes && crashes.length > 0 ? (
          crashes.map((c) => <Crash key={c.id} c={c} />)
        ) : (
          <p className="muted">No crash recorded.</p>
        )}
      </section>

      {action && text ? (
        <ConfirmDialog
          title={text.title}
          body={
            <>
              <p>
                <strong>{prefix}</strong>
              </p>
              <p>{text.body}</p>
            </>
          }
          confirm={text.confirm}
          danger={text.danger}
          busy={busy}
          onConfirm={() => void run(action)}
          onCancel={() => setAction(null)}
        />
      ) : null}
    </div>
  );
}

const SOURCE: Record<DeviceState['source'], string> = {
  status: 'status message',
  watchdog: 'watchdog feed (original board)',
  log: 'log traffic',
  manual: 'added by hand',
};

function StatusLine({ d }: { d: DeviceState }) {
  const now = useNow();
  return (
    <span className={`presence-word ${presenceTone(d)}`} data-testid="detail-presence">
      <span className={`status-dot ${presenceTone(d)}`} /> {isAsleep(d) ? <SleepNote wake={d.wake} /> : <>{presenceWord(d)} for {forHowLong(d.since, now)}</>}
      {d.mode === 'safe' ? (
        <span className="badge badge-safe" data-testid="detail-badge-safe">
          <Icon name="shield" size={12} /> SAFE MODE
        </span>
      ) : null}
    </span>
  );
}

function Ago({ ms }: { ms: number }) {
  const now = useNow();
  return <>{ago(ms, now)}</>;
}

function Card({ title, children }: { title: string; children: React.ReactNode }) {
  return (
    <section className="card">
      <h3>{title}</h3>
      <dl>{children}</dl>
    </section>
  );
}

function Field({ label, value }: { label: string; value: React.ReactNode }) {
  return (
    <>
      <dt>{label}</dt>
      <dd>{value}</dd>
    </>
  );
}

function Crash({ c }: { c: CrashRecord }) {
  return (
    <details className="crash" data-testid="crash-record">
      <summary>
        <span className="badge badge-crash">{c.reason}</span>
        <span className="crash-message">{oneLine(c.message)}</span>
        <span className="muted">
          {clock(c.time)} · boot {c.bootCount} · {c.mode}
        </span>
      </summary>
      {c.stack ? <pre className="code">{neutraliseControls(c.stack)}</pre> : null}
      {c.log.length ? (
        <>
          <h4>Last log lines</h4>
          <pre className="code">{c.log.map(oneLine).join('\n')}</pre>
        </>
      ) : null}
    </details>
  );
}

/** The last lines the device logged since the window opened, coloured by level as on `P/log`. */
function RecentLog({ prefix }: { prefix: string }) {
  const lines = useDeviceLog(prefix);
  const shown = lines.slice(-12);
  return (
    <section className="recent-log" data-testid="recent-log">
      <h3>
        Recent log <span className="count">{lines.length}</span>
      </h3>
      {shown.length === 0 ? (
        <p className="muted">No log lines since the window opened.</p>
      ) : (
        <pre className="code log">
          {shown.map((e, i) => (
            <div key={`${e.received}-${i}`} className={`log-line level-${e.line.level}`} data-testid="log-line">
              <span className="log-time">{oneLine(e.line.time)}</span> <span className="log-level">{e.line.level}</span> <span className="log-name">{oneLine(e.line.name)}</span>: {oneLine(e.line.text)}
            </div>
          ))}
        </pre>
      )}
    </section>
  );
}

const NO_TAGS: readonly string[] = [];

/** The device's own tags (read only: they come from its config) and the user's, editable. */
function TagEditor({ prefix, own }: { prefix: string; own: readonly string[] | undefined }) {
  const store = useAppStore();
  const bridge = useBridge();
  const mine = useApp((s) => s.userTags[prefix] ?? NO_TAGS);
  const [text, setText] = useState('');
  const [error, setError] = useState<string | null>(null);
  const change = async (add: string[], remove: string[]) => {
    setError(null);
    try {
      store.getState().setFleetSettings(await bridge.call('setTags', { prefixes: [prefix], add, remove }));
      setText('');
    } catch (e) {
      setError(e instanceof Error ? e.message : String(e));
    }
  };
  const parsed = parseTagInput(text);
  return (
    <span className="tag-editor" data-testid="detail-tags">
      <TagChips own={own} user={NO_TAGS} max={32} />
      {mine.map((t) => (
        <span key={t} className="tag-chip tag-user tag-editable" data-tag={t} title="Your tag (kept in the app)">
          {oneLine(t)}
          <button aria-label={`Remove tag ${oneLine(t)}`} data-testid="detail-tag-remove" onClick={() => void change([], [t])}>
            <Icon name="close" size={10} />
          </button>
        </span>
      ))}
      <form
        onSubmit={(e) => {
          e.preventDefault();
          if (parsed.tags.length && !parsed.error) void change(parsed.tags, []);
        }}
      >
        <input value={text} placeholder="+ tag" spellCheck={false} aria-label="Add a tag" data-testid="detail-tag-input" aria-invalid={parsed.error ? true : undefined} title={parsed.error ?? 'Enter adds'} onChange={(e) => setText(e.target.value)} />
      </form>
      {error ? <span className="form-error">{error}</span> : null}
    </span>
  );
}

/** Commands waiting in the host's queue for this device; they run when it next comes online. */
function QueuedCommands({ prefix }: { prefix: string }) {
  const store = useAppStore();
  const bridge = useBridge();
  const all = useApp((s) => s.queue);
  const items = all.filter((q) => q.prefix === prefix);
  // The `queue` stream keeps the list fresh; this fetch covers a window opened after it last changed.
  useEffect(() => {
    const ac = new AbortController();
    bridge
      .call('queueList', { prefix }, { signal: ac.signal })
      .then((r) => {
        const s = store.getState();
        store.setState({ queue: [...s.queue.filter((q) => q.prefix !== prefix), ...r.items] });
      })
      .catch((e: unknown) => {
        if (!(e instanceof BridgeCallError && e.code === 'cancelled')) console.warn(e);
      });
    return () => ac.abort();
  }, [bridge, store, prefix]);
  if (items.length === 0) return null;
  const remove = (id: string) =>
    bridge.call('queueRemove', { id }).catch((e: unknown) => store.getState().toast('error', `Queue: ${e instanceof Error ? e.message : String(e)}`));
  return (
    <section className="queued" data-testid="queued-commands">
      <h3>
        Queued for when it is back <span className="count">{items.length}</span>
      </h3>
      <ul className="queued-list">
        {items.map((q) => (
          <li key={q.id} data-testid="queued-command">
            <span className="badge badge-muted">{q.kind}</span>
            <span className="queued-title" title={oneLine(q.title)}>
              {oneLine(q.title)}
            </span>
            <span className="muted">
              queued {clock(q.queuedAt)}
              {q.attempts ? ` · ${q.attempts} attempt${q.attempts === 1 ? '' : 's'}` : ''}
            </span>
            {q.job ? (
              <button className="btn btn-small btn-ghost" onClick={() => store.getState().setFleetDialog({ kind: 'results', job: q.job! })}>
                Results
              </button>
            ) : null}
            <button className="btn btn-small btn-ghost" aria-label="Remove from the queue" data-testid="queued-remove" onClick={() => void remove(q.id)}>
              <Icon name="trash" size={14} />
            </button>
          </li>
        ))}
      </ul>
    </section>
  );
}
