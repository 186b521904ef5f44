// Live log lines for log views: one listener on the bridge's event stream per bridge, fanned
// out to the open views. The feed (bridge/feed.ts) already subscribes the `logs` stream; this
// only listens, so views never touch the zustand store with line data.
//
// Every stored line reaches the stream with its store id, in order, so ids arrive contiguous;
// a jump means the host capped a batch (event-hub.ts keeps the newest 2,000 lines per batch).
// The jump is handed to the views as a gap, which they fetch from history: the live view loses
// nothing even when a burst outruns the batch cap.
import type { LogEntry } from '../../../../protocol/src';
import type { BridgeClient } from '../../bridge/client';
import type { LiveGap } from './log-view-model';

type Listener = (entries: LogEntry[], gap?: LiveGap) => void;
const hubs = new WeakMap<BridgeClient, Set<Listener>>();

export function onLiveLogs(bridge: BridgeClient, fn: Listener): () => void {
  let listeners = hubs.get(bridge);
  if (!listeners) {
    const set = new Set<Listener>();
    listeners = set;
    hubs.set(bridge, set);
    const next = createGapTracker();
    bridge.onEvents((batch) => {
      for (const e of batch) {
        if (e.stream !== 'logs' || e.entries.length === 0) continue;
        const gap = next(e.entries);
        for (const l of set) l(e.entries, gap);
      }
    });
  }
  listeners.add(fn);
  return () => listeners.delete(fn);
}

/** Returns, per batch, the ids skipped since the previous batch (none for the first). */
export function createGapTracker(): (entries: LogEntry[]) => LiveGap | undefined {
  let last: number | undefined;
  return (entries) => {
    const first = entries[0]?.id;
    const gap = first !== undefined && last !== undefined && first > last + 1 ? { from: last + 1, to: first } : undefined;
    const end = entries.at(-1)?.id;
    if (end !== undefined) last = Math.max(last ?? end, end);
    return gap;
  };
}
