// Coalesces device changes and log lines into one event per interval: at 10,000 devices and
// 20,000 log lines/s the UI must get a few dozen events per second, never one per MQTT message.
import type { CrashRecord } from '../../../protocol/src';
import type { DeviceState, LogEntry } from './types';

export interface BatchSinks {
  devices(changed: DeviceState[], removed: string[]): void;
  logs(entries: LogEntry[]): void;
  crashes(prefix: string, records: CrashRecord[]): void;
}

export interface Batcher {
  deviceChanged(d: DeviceState): void;
  deviceRemoved(prefix: string): void;
  log(e: LogEntry): void;
  crashes(prefix: string, records: CrashRecord[]): void;
  /** Emits whatever is pending now (on disconnect, and at the end of a CLI run). */
  flush(): void;
  stop(): void;
}

/** Log lines kept per interval when nobody drains them fast enough; older ones are dropped. */
const MAX_LOG_BATCH = 50_000;

export function createBatcher(intervalMs: number, sinks: BatchSinks): Batcher {
  let changed = new Map<string, DeviceState>();
  let removed = new Set<string>();
  let logs: LogEntry[] = [];
  let crashes = new Map<string, CrashRecord[]>();
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;

  const schedule = () => {
    if (!timer && !stopped) timer = setTimeout(flush, intervalMs);
  };
  function flush() {
    if (timer) clearTimeout(timer);
    timer = undefined;
    if (changed.size || removed.size) {
      const c = [...changed.values()];
      const r = [...removed];
      changed = new Map();
      removed = new Set();
      sinks.devices(c, r);
    }
    if (logs.length) {
      const l = logs;
      logs = [];
      sinks.logs(l);
    }
    if (crashes.size) {
      const cr = crashes;
      crashes = new Map();
      for (const [p, recs] of cr) sinks.crashes(p, recs);
    }
  }

  return {
    deviceChanged(d) {
      removed.delete(d.prefix);
      changed.set(d.prefix, d);
      schedule();
    },
    deviceRemoved(prefix) {
      changed.delete(prefix);
      removed.add(prefix);
      schedule();
    },
    log(e) {
      if (logs.length >= MAX_LOG_BATCH) logs.shift();
      logs.push(e);
      schedule();
    },
    crashes(prefix, records) {
      crashes.set(prefix, records);
      schedule();
    },
    flush,
    stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      timer = undefined;
    },
  };
}
