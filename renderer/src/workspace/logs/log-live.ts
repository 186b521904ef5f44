// Live log lines for log views: one listener on the bridge's event stream per bridge, fanned
// out to the open views. The feed (bridge/feed.ts) already subscribes the `logs` stream; this
// only listens, so views never touch the zustand store with line data.
import type { LogEntry } from '../../../../protocol/src';
import type { BridgeClient } from '../../bridge/client';

type Listener = (entries: LogEntry[]) => void;
const hubs = new WeakMap<BridgeClient, Set<Listener>>();

export function onLiveLogs(bridge: BridgeClient, fn: Listener): () => void {
  let listeners = hubs.get(bridge);
  if (!listeners) {
    const set = new Set<Listener>();
    listeners = set;
    hubs.set(bridge, set);
    bridge.onEvents((batch) => {
      for (const e of batch) if (e.stream === 'logs') for (const l of set) l(e.entries);
    });
  }
  listeners.add(fn);
  return () => listeners.delete(fn);
}
