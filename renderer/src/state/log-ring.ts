// Recent log lines per device, outside the store (style anchors: log floods do not belong in
// the store): a bounded ring per device that views read through a version counter, so a burst
// of lines costs one notification per bridge batch, not one per line. The long history lives in
// the host's log store (queried page by page); this holds only what the details page shows.
import type { LogEntry } from '../../../protocol/src';

export interface LogRing {
  push(entries: LogEntry[]): void;
  lines(prefix: string): readonly LogEntry[];
  /** Changes whenever `prefix` gets new lines. */
  version(prefix: string): number;
  subscribe(listener: () => void): () => void;
}

export function createLogRing(perDevice = 200): LogRing {
  const rings = new Map<string, LogEntry[]>();
  const versions = new Map<string, number>();
  const listeners = new Set<() => void>();
  return {
    push(entries) {
      if (entries.length === 0) return;
      for (const e of entries) {
        let r = rings.get(e.prefix);
        if (!r) rings.set(e.prefix, (r = []));
        r.push(e);
        if (r.length > perDevice) r.splice(0, r.length - perDevice);
        versions.set(e.prefix, (versions.get(e.prefix) ?? 0) + 1);
      }
      for (const l of listeners) l();
    },
    lines: (prefix) => rings.get(prefix) ?? [],
    version: (prefix) => versions.get(prefix) ?? 0,
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}
