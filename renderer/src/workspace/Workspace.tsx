// The right-hand side: one tab per open device, and inside it the device's workspace tabs.
// With nothing open it shows a fleet overview instead of an empty pane. The fleet log view and
// the Rollouts view cover it (one at a time) without unmounting it.
import { useState } from 'react';
import { Overview } from '../overview/Overview';
import { RolloutsPane } from '../rollouts/Rollouts';
import { useRollouts } from '../rollouts/rollouts-state';
import { useApp, useAppStore } from '../ui/context';
import { Icon } from '../ui/icons';
import { presenceTone } from '../ui/DeviceRow';
import { useWorkspaceDrop } from './ota/workspace-drop';
import { WORKSPACE_TABS } from './tabs';
import { FleetLogsPane } from './logs/FleetLogs';
import { useFleetLogs } from './logs/fleet-logs-state';

export function Workspace() {
  const open = useApp((s) => s.open);
  const active = useApp((s) => s.active);
  const fleetLogs = useFleetLogs((s) => s.shown);
  const rollouts = useRollouts((s) => s.shown);
  const cover = rollouts ? ' rollouts-shown' : fleetLogs ? ' fleet-logs-shown' : '';
  return (
    <section className={`workspace${cover}`} aria-label="Device workspace" data-testid="workspace">
      {/* The fleet log view and the Rollouts view cover the device workspace without unmounting it. */}
      <FleetLogsPane />
      <RolloutsPane />
      {open.length > 0 ? (
        <>
          <nav className="device-tabs" role="tablist">
            {open.map((p) => (
              <DeviceTab key={p} prefix={p} active={p === active} />
            ))}
          </nav>
          {/* Every open device stays mounted (hidden when not active), so keep-alive tabs such as
              a terminal session survive switching devices. */}
          {open.map((p) => (
            <DeviceWorkspace key={p} prefix={p} hidden={p !== active} />
          ))}
        </>
      ) : (
        <Overview />
      )}
    </section>
  );
}

function DeviceTab({ prefix, active }: { prefix: string; active: boolean }) {
  const store = useAppStore();
  const tone = useApp((s) => {
    const d = s.devices.get(prefix);
    return d ? presenceTone(d) : 'tone-muted';
  });
  return (
    <div className={`device-tab${active ? ' active' : ''}`} role="tab" aria-selected={active} data-testid="device-tab" data-prefix={prefix}>
      <button className="device-tab-open" onClick={() => store.getState().openDevice(prefix)}>
        <span className={`status-dot ${tone}`} />
        {prefix}
      </button>
      <button className="device-tab-close" aria-label={`Close ${prefix}`} onClick={() => store.getState().closeDevice(prefix)}>
        <Icon name="close" size={12} />
      </button>
    </div>
  );
}

function DeviceWorkspace({ prefix, hidden }: { prefix: string; hidden: boolean }) {
  const store = useAppStore();
  const device = useApp((s) => s.devices.get(prefix));
  const tabId = useApp((s) => s.tab[prefix] ?? 'details');
  // A firmware image dropped anywhere on the workspace goes to the OTA tab (ota/workspace-drop.ts).
  const otaDrop = useWorkspaceDrop(prefix);
  const tabs = WORKSPACE_TABS.filter((t) => !device || !t.available || t.available(device));
  const current = tabs.find((t) => t.id === tabId) ?? tabs[0]!;
  // Keep-alive tabs, once opened, stay mounted while their device is open.
  const [visited, setVisited] = useState<ReadonlySet<string>>(() => new Set([current.id]));
  if (!visited.has(current.id)) setVisited(new Set(visited).add(current.id));
  if (hidden) {
    const alive = tabs.filter((t) => t.keepAlive && visited.has(t.id));
    if (alive.length === 0) return null;
  }
  return (
    <div className="device-workspace" data-testid={hidden ? undefined : 'device-workspace'} data-prefix={prefix} hidden={hidden} {...otaDrop}>
      <nav className="section-tabs" role="tablist">
        {tabs.map((t) => (
          <button key={t.id} role="tab" aria-selected={t.id === current.id} className={t.id === current.id ? 'on' : ''} data-testid={`tab-${t.id}`} onClick={() => store.getState().setTab(prefix, t.id)}>
            {t.title}
          </button>
        ))}
      </nav>
      {tabs.map((t) => {
        const shown = t.id === current.id;
        if (!shown && !(t.keepAlive && visited.has(t.id))) return null;
        const Tab = t.component;
        return (
          <div key={t.id} className="section-body" hidden={!shown || hidden}>
            <Tab prefix={prefix} />
          </div>
        );
      })}
    </div>
  );
}
