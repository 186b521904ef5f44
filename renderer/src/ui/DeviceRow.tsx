// One device in the list. It subscribes to its own DeviceState, so an update to one device
// re-renders one row. Status is in words and colour; safe mode and crashes stand out.
import { oneLine } from '../../../protocol/src/control-chars';
import { memo } from 'react';
import type { DeviceState } from '../../../protocol/src';
import { useApp, useAppStore } from './context';
import { cssId } from './DeviceList';
import { ago, bytes, duration, forHowLong } from './format';
import { Icon } from './icons';
import { isAsleep, sleepText } from './sleep';
import { useNow } from './use-now';

/** What a click on a row asks for: open it, toggle it (Ctrl/Cmd, the checkbox) or a range (Shift). */
export type PickHow = 'open' | 'toggle' | 'range';

const NO_TAGS: readonly string[] = [];

export const DeviceRow = memo(function DeviceRow({ prefix, onPick }: { prefix: string; onPick: (prefix: string, how: PickHow) => void }) {
  const d = useApp((s) => s.devices.get(prefix));
  const isCursor = useApp((s) => s.cursor === prefix);
  // A set lookup per mounted row: selecting 10,000 devices re-renders only the rows on screen.
  const selected = useApp((s) => s.selected.has(prefix));
  const userTags = useApp((s) => s.userTags[prefix] ?? NO_TAGS);
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
      aria-checked={selected}
      className={`device-row${isCursor ? ' cursor' : ''}${isActive ? ' active' : ''}${online ? '' : ' is-offline'}${selected ? ' selected' : ''}`}
      data-testid="device-row"
      data-prefix={prefix}
      data-presence={d.presence}
      data-mode={d.mode ?? ''}
      data-selected={selected}
      onMouseDown={(e) => {
        // Shift-click would otherwise select the page's text across rows.
        if (e.shiftKey) e.preventDefault();
        store.getState().setCursor(prefix);
      }}
      onClick={(e) => onPick(prefix, e.shiftKey ? 'range' : e.ctrlKey || e.metaKey ? 'toggle' : 'open')}
    >
      <div className="row-line1">
        <input
          type="checkbox"
          className="row-check"
          checked={selected}
          aria-label={`Select ${name}`}
          data-testid="row-check"
          tabIndex={-1}
          onClick={(e) => {
            e.stopPropagation();
            onPick(prefix, e.shiftKey ? 'range' : 'toggle');
          }}
          onChange={() => undefined}
        />
        <span className={`status-dot ${presenceTone(d)}`} aria-hidden="true" />
        <span className="device-name" title={name}>
          {name}
        </span>
        <TagChips own={d.tags} user={userTags} />
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
          {isAsleep(d) ? <SleepNote wake={d.wake} /> : <>{presenceWord(d)} <span className="muted">· {forHowLong(d.since, now)}</span></>}
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

/** The device's own tags (from its config) and the user's, told apart by style and title. */
export function TagChips({ own, user, max = 3 }: { own: readonly string[] | undefined; user: readonly string[]; max?: number }) {
  // The user's first: they are what the user is working with right now.
  const all = [...user.map((t) => ({ t, mine: true })), ...(own ?? []).filter((t) => !user.includes(t)).map((t) => ({ t, mine: false }))];
  if (all.length === 0) return null;
  const shown = all.slice(0, max);
  return (
    <span className="row-tags" data-testid="row-tags">
      {shown.map(({ t, mine }) => (
        <span key={`${mine ? 'u' : 'd'}:${t}`} className={`tag-chip ${mine ? 'tag-user' : 'tag-device'}`} title={mine ? 'Your tag (kept in the app)' : "The device's tag (from its config)"} data-tag={t}>
          {oneLine(t)}
        </span>
      ))}
      {all.length > shown.length ? <span className="tag-more">+{all.length - shown.length}</span> : null}
    </span>
  );
}

function Fact({ label, value }: { label: string; value: string | undefined }) {
  if (value === undefined) return null;
  return (
    <span className="fact">
      <span className="fact-label">{label}</span> {oneLine(value)}
    </span>
  );
}

/** Its own clock subscription, mounted only for sleeping devices, so the countdown ticks alone. */
export function SleepNote({ wake }: { wake: number | undefined }) {
  const now = useNow();
  const text = sleepText(wake, now);
  return (
    <span className={text.endsWith('overdue') ? 'tone-warn' : 'tone-muted'} data-testid="sleep-note">
      {text}
    </span>
  );
}

export function presenceWord(d: DeviceState): string {
  return d.presence === 'online' ? 'Online' : d.presence === 'offline' ? 'Offline' : 'Unknown';
}

export function presenceTone(d: DeviceState): string {
  // Sleeping is what a battery board is meant to do: not shown as a problem.
  if (isAsleep(d)) return 'tone-muted';
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
