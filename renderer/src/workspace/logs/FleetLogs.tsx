// The fleet-wide log view: every device's lines interleaved in arrival order, with a device
// column. Shown in place of the device workspace (opened from the top bar) and kept mounted
// once opened, so its lines and position survive a trip to a device and back.
import { useEffect } from 'react';
import { useAppStore } from '../../ui/context';
import { Icon } from '../../ui/icons';
import { showFleetLogs, useFleetLogs } from './fleet-logs-state';
import { LogView } from './LogView';

export function FleetLogsPane() {
  const shown = useFleetLogs((s) => s.shown);
  const mounted = useFleetLogs((s) => s.mounted);
  const store = useAppStore();
  // Opening a device (list click, tab, keyboard) brings its workspace back.
  useEffect(
    () =>
      store.subscribe((s, prev) => {
        if (s.active !== prev.active || s.open !== prev.open) showFleetLogs(false);
      }),
    [store],
  );
  if (!mounted) return null;
  return (
    <div className="fleet-logs" hidden={!shown} data-testid={shown ? 'fleet-logs' : undefined}>
      <div className="fleet-logs-head">
        <h2>Fleet logs</h2>
        <span className="muted">Every device, in the order lines arrived</span>
        <div className="topbar-spacer" />
        <button className="btn btn-ghost btn-small" onClick={() => showFleetLogs(false)} data-testid="fleet-logs-close" aria-label="Close fleet logs">
          <Icon name="close" size={12} />
        </button>
      </div>
      <LogView />
    </div>
  );
}

/** The top bar's way in. */
export function FleetLogsButton() {
  const shown = useFleetLogs((s) => s.shown);
  return (
    <button className={`btn btn-ghost${shown ? ' btn-on' : ''}`} aria-pressed={shown} onClick={() => showFleetLogs(!shown)} data-testid="open-fleet-logs">
      Fleet logs
    </button>
  );
}
