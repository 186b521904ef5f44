// One device in the list. It subscribes to its own DeviceState, so an update to one device
// re-renders one row. Status is in words and colour; safe mode and crashes stand out.
import { oneLine } from '../../../protocol/src/control-chars';
import { memo } from 'react';
import type { DeviceState } from '../../../protocol/src';
import { useApp, useAppStore } from './context';
import { cssId } from './DeviceList';
import { ago, bytes, duration, forHowLong } from './format';
import { Icon } from './icons';
import { useNow } from './use-now';

export const DeviceRow = memo(function DeviceRow({ prefix }: { prefix: string }) {
  const d = useApp((s) => s.devices.get(prefix));
  const isCursor = useApp((s) => s.cursor === prefix);
  const name = oneLine(prefix);
  const isActive = useApp((s) => s.active === prefix);
  const store = useAppStore();
  const now = useNow();
  if (!d) return null;
  const online = d.presence === 'online';
  const safe = d.mode === 'safe';
  const crashes = d.crashCount ?? 0;
  return (
    <div
      id={`dev-${cssId(prefix)}`}
      role="option"
      aria-selected={isCursor}
      className={`device-row${isCursor ? ' cursor' : ''}${isActive ? ' active' : ''}${online ? '' : ' is-offline'}`}
      data-testid="device-row"
      data-prefix={prefix}
      data-presence={d.presence}
      data-mode={d.mode ?? ''}
      onMouseDown={() => store.getState().setCursor(prefix)}
      onClick={() => store.getState().openDevice(prefix)}
    >
      <div className="row-line1">
        <span className={`status-dot ${presenceTone(d)}`} aria-hidden="true" />
        <span className="device-name" title={name}>
          {name}
        </span>
        {safe ? (
          <span className="badge badge-safe" data-testid="badge-safe" title="Running from /safemode: the application did not start or was reset into safe mode">
            <Icon name="shield" size={12} /> SAFE MODE
          </span>
        ) : null}
        {crashes > 0 ? (
          <span className="badge badge-crash" data-testid="badge-crash" title={`${crashes} crash record${crashes === 1 ? '' : 's'}`}>
            <Icon name="alert" size={12} /> {crashes}
          </span>
        ) : null}
        {d.kind === 'original' ? <span className="badge badge-muted" title="Original MQBoard (MicroPython) board">original</span> : null}
        <span className="row-spacer" />
        <span className={`presence-word ${presenceTone(d)}`} data-testid="presence" title={`since ${new Date(d.since).toLocaleString()}`}>
          {presenceWord(d)} <span className="muted">· {forHowLong(d.since, now)}</span>
        </span>
      </div>
      <div className="row-line2 muted">
        <Fact label="fw" value={d.firmware} />
        <Fact label="runtime" value={d.runtime?.version} />
        <Fact label="up" value={online && d.uptime !== undefined ? duration(d.uptime) : undefined} />
        <Fact label="free" value={d.freeMem !== undefined ? bytes(d.freeMem) : undefined} />
        {d.kind === 'original' && d.runtime === undefined ? <span className="fact">MicroPython · found by {d.source === 'watchdog' ? 'watchdog feed' : d.source}</span> : null}
        <span className="row-spacer" />
        <span className="last-seen">{d.lastSeen ? `seen ${ago(d.lastSeen, now)}` : 'never seen'}</span>
      </div>
    </div>
  );
});

function Fact({ label, value }: { label: string; value: string | undefined }) {
  if (value === undefined) return null;
  return (
    <span className="fact">
      <span className="fact-label">{label}</span> {oneLine(value)}
    </span>
  );
}

export function presenceWord(d: DeviceState): string {
  return d.presence === 'online' ? 'Online' : d.presence === 'offline' ? 'Offline' : 'Unknown';
}

export function presenceTone(d: DeviceState): string {
  if (d.presence !== 'online') return d.presence === 'offline' ? 'tone-bad' : 'tone-muted';
  return d.mode === 'safe' ? 'tone-warn' : 'tone-ok';
}

export function GroupRow({ group, count }: { group: string; count: number }) {
  return (
    <div className="group-row" data-testid="group-row" data-group={group}>
      <Icon name="group" size={14} />
      <span>{group}</span>
      <span className="count">{count}</span>
    </div>
  );
}
