// The fleet overview shown when no device is open: counts as tiles (a click filters the list),
// the charts (firmware versions, online devices over time, crashes per day) and the devices
// that need a look.
import { useMemo } from 'react';
import { countFleet } from '../state/device-view';
import { useApp, useAppStore } from '../ui/context';
import { Icon } from '../ui/icons';
import { presenceTone } from '../ui/DeviceRow';
import { FleetCharts } from './FleetCharts';
import { isAsleep } from '../ui/sleep';

export function Overview() {
  const devices = useApp((s) => s.devices);
  const c = useMemo(() => countFleet(devices), [devices]);
  const store = useAppStore();
  const tiles: { label: string; value: number; tone: string; filter: 'all' | 'online' | 'offline' | 'safe' | 'crash' }[] = [
    { label: 'Devices', value: c.total, tone: '', filter: 'all' },
    { label: 'Online', value: c.online, tone: 'tone-ok', filter: 'online' },
    { label: 'Offline', value: c.offline, tone: c.offline ? 'tone-bad' : '', filter: 'offline' },
    { label: 'Safe mode', value: c.safe, tone: c.safe ? 'tone-warn' : '', filter: 'safe' },
    { label: 'With crashes', value: c.crash, tone: c.crash ? 'tone-bad' : '', filter: 'crash' },
  ];
  return (
    <div className="overview" data-testid="overview">
      <h2>Fleet</h2>
      <div className="tiles">
        {tiles.map((t) => (
          <button key={t.label} className="panel raised tile" onClick={() => store.getState().setFilter(t.filter)} data-testid={`tile-${t.filter}`}>
            <span className={`tile-value ${t.tone}`}>{t.value.toLocaleString()}</span>
            <span className="tile-label">{t.label}</span>
          </button>
        ))}
      </div>
      <FleetCharts online={c.online} total={c.total} />
      <Attention />
      <p className="hint">
        Select a device to open its workspace. <kbd>/</kbd> searches, <kbd>↑</kbd> <kbd>↓</kbd> move through the list, <kbd>Enter</kbd> opens.
      </p>
    </div>
  );
}

/** Devices that need a look: offline (not a sleeper between wakes), in safe mode, or with crash records (at most 8). */
function Attention() {
  const devices = useApp((s) => s.devices);
  const store = useAppStore();
  const problems = useMemo(() => {
    const out: { prefix: string; tone: string; why: string }[] = [];
    for (const d of devices.values()) {
      const why = [d.presence !== 'online' && !isAsleep(d) ? 'offline' : null, d.mode === 'safe' ? 'in safe mode' : null, (d.crashCount ?? 0) > 0 ? `${d.crashCount} crash record${d.crashCount === 1 ? '' : 's'}` : null].filter(Boolean);
      if (why.length) out.push({ prefix: d.prefix, tone: presenceTone(d), why: why.join(', ') });
    }
    return out.sort((a, b) => a.prefix.localeCompare(b.prefix)).slice(0, 8);
  }, [devices]);
  if (problems.length === 0) return null;
  return (
    <section className="panel raised attention" data-testid="attention">
      <h3 className="section-label">Needs attention</h3>
      {problems.map((p) => (
        <button key={p.prefix} className="attention-item" onClick={() => store.getState().openDevice(p.prefix)}>
          <span className={`status-dot ${p.tone}`} />
          <span className="attention-name">{p.prefix}</span>
          <span className="muted">{p.why}</span>
          <Icon name="chevron" size={14} />
        </button>
      ))}
    </section>
  );
}
