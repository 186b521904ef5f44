// One device in the list. It subscribes to its own DeviceState, so an update to one device
// re-renders one row. Status is in words and colour; safe mode and crashes stand out.
import { oneLine } from '../../../protocol/src/control-chars';
import { memo, useLayoutEffect, useRef, useState } from 'react';
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

/** Room kept after the last chip shown for the "+N" that counts the others. */
const MORE_ROOM = 24;

/**
 * The device's own tags (from its config) and the user's, told apart by style and title. Chips
 * that do not fit the row's width drop out whole (never cut mid-word), and a "+N" after the last
 * one shown counts them and every one past `max`, its title naming them.
 */
export function TagChips({ own, user, max = 3 }: { own: readonly string[] | undefined; user: readonly string[]; max?: number }) {
  // The user's first: they are what the user is working with right now.
  const all = [...user.map((t) => ({ t, mine: true })), ...(own ?? []).filter((t) => !user.includes(t)).map((t) => ({ t, mine: false }))];
  const shown = all.slice(0, max);
  const box = useRef<HTMLSpanElement>(null);
  /** How many of `shown` are in sight, and where the "+N" goes (after the last of them). */
  const [fit, setFit] = useState({ n: shown.length, x: 0, y: 0, room: true });
  const key = `${all.length}\n${shown.map((x) => x.t).join('\n')}`;
  useLayoutEffect(() => {
    const el = box.current;
    if (!el) return;
    // The chips wrap inside the box (their offsetParent), which shows one line in a list row and
    // hides the rest; a chip alone on its line cannot wrap away, so one wider than the box counts
    // as hidden too. When any is hidden, the last one shown leaves room for the "+N".
    const measure = () => {
      const chips = [...el.children] as HTMLElement[];
      const right = (c: HTMLElement) => c.offsetLeft + c.offsetWidth;
      const inside = (c: HTMLElement) => c.offsetTop + c.offsetHeight <= el.clientHeight + 1 && right(c) <= el.clientWidth + 1;
      let n = chips.findIndex((c) => !inside(c));
      if (n === -1) n = chips.length;
      if (n < all.length) while (n > 0 && right(chips[n - 1]!) + MORE_ROOM > el.clientWidth) n--;
      const last = chips[n - 1];
      setFit({ n, x: last ? right(last) + 3 : 0, y: last?.offsetTop ?? 0, room: el.clientWidth >= MORE_ROOM || n > 0 });
    };
    measure();
    const watch = new ResizeObserver(measure);
    watch.observe(el);
    return () => watch.disconnect();
    // `key` stands for `all` and `shown`, which are new arrays on every render.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [key]);
  if (all.length === 0) return null;
  const hidden = all.slice(Math.min(fit.n, shown.length));
  return (
    <span className="row-tags" data-testid="row-tags">
      <span className="row-tags-fit" ref={box}>
        {shown.map(({ t, mine }, i) => (
          <span
            key={`${mine ? 'u' : 'd'}:${t}`}
            className={`tag-chip ${mine ? 'tag-user' : 'tag-device'}${i >= fit.n ? ' tag-hidden' : ''}`}
            title={mine ? 'Your tag (kept in the app)' : "The device's tag (from its config)"}
            data-tag={t}
          >
            {oneLine(t)}
          </span>
        ))}
      </span>
      {hidden.length > 0 && fit.room ? (
        <span className="tag-more" style={{ left: fit.x, top: fit.y }} data-testid="tag-more" title={`Also tagged: ${hidden.map((x) => oneLine(x.t)).join(', ')}`}>
          +{hidden.length}
        </span>
      ) : null}
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
