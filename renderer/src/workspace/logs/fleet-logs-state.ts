// Whether the fleet-wide log view is shown in place of the device workspace. Its own tiny
// store: it is UI state of this feature only, and once opened the view stays mounted (hidden)
// so its lines and scroll position survive switching back to a device.
import { createStore } from 'zustand/vanilla';
import { useStore } from 'zustand';

interface FleetLogsState {
  shown: boolean;
  /** Set on first open; from then on the view stays mounted. */
  mounted: boolean;
}

export const fleetLogs = createStore<FleetLogsState>()(() => ({ shown: false, mounted: false }));

export const showFleetLogs = (shown: boolean) => fleetLogs.setState((s) => ({ shown, mounted: s.mounted || shown }));

export function useFleetLogs<T>(selector: (s: FleetLogsState) => T): T {
  return useStore(fleetLogs, selector);
}
