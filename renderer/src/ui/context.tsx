// React bindings: the store and the bridge are created once in main.tsx and handed down here;
// components select single fields with useApp(selector).
import { createContext, useContext, useSyncExternalStore } from 'react';
import { useStore } from 'zustand';
import type { BridgeClient } from '../bridge/client';
import type { LogEntry } from '../../../protocol/src';
import type { LogRing } from '../state/log-ring';
import type { AppState, AppStore } from '../state/store';

export const StoreContext = createContext<AppStore | null>(null);
export const BridgeContext = createContext<BridgeClient | null>(null);
export const LogContext = createContext<LogRing | null>(null);

export function useAppStore(): AppStore {
  const s = useContext(StoreContext);
  if (!s) throw new Error('StoreContext missing');
  return s;
}

export function useApp<T>(selector: (s: AppState) => T): T {
  return useStore(useAppStore(), selector);
}

export function useBridge(): BridgeClient {
  const b = useContext(BridgeContext);
  if (!b) throw new Error('BridgeContext missing');
  return b;
}

/** The recent log lines of one device; re-renders only when that device logs. */
export function useDeviceLog(prefix: string): readonly LogEntry[] {
  const ring = useContext(LogContext);
  if (!ring) throw new Error('LogContext missing');
  useSyncExternalStore(ring.subscribe, () => ring.version(prefix));
  return ring.lines(prefix);
}
