// React bindings: the store and the bridge are created once in main.tsx and handed down here;
// components select single fields with useApp(selector).
import { createContext, useContext } from 'react';
import { useStore } from 'zustand';
import type { BridgeClient } from '../bridge/client';
import type { AppState, AppStore } from '../state/store';

export const StoreContext = createContext<AppStore | null>(null);
export const BridgeContext = createContext<BridgeClient | null>(null);

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
