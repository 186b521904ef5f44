// Feeds the log store from the engine: every line and every new crash record is stored before
// it is published, so the `logs` stream carries store ids (a view joins history and live lines
// by id) and lines arriving while no view is open are kept all the same.
import { formatDeviceTime, type BridgeEvent, type CrashRecord, type LogEntry } from '../../../protocol/src';
import type { LogRecord } from '../../../protocol/src/bridge-logs';
import type { Engine } from '../engine/types';
import type { IncomingLine, LogStore } from './log-store';

/** Returns a function that stops listening. */
export function ingestLogs(engine: Engine, store: LogStore, publish: (e: BridgeEvent) => void): () => void {
  const offLogs = engine.on('logs', (entries) => {
    const stored = store.append(entries.map((e) => ({ prefix: e.prefix, received: e.received, ...e.line })));
    publish({ stream: 'logs', entries: stored.map(toEntry) });
  });
  const offCrashes = engine.on('crashes', (prefix, records) => {
    const now = Date.now();
    const fresh = records.filter((c) => store.rememberCrash(prefix, crashKey(c)));
    if (fresh.length === 0) return;
    // Oldest first, like log lines; the engine lists them newest first or in any order.
    fresh.sort((a, b) => a.time - b.time);
    const stored = store.append(fresh.map((c) => crashLine(prefix, c, now)));
    publish({ stream: 'logs', entries: stored.map(toEntry) });
  });
  return () => {
    offLogs();
    offCrashes();
  };
}

/** A device may reuse ids after a wipe; with the crash time the key stays unique. */
const crashKey = (c: CrashRecord) => `${c.id}@${c.time}`;

/** A crash record as a critical line (its stack travels along in `crash`). */
export function crashLine(prefix: string, c: CrashRecord, received: number): IncomingLine {
  return { prefix, received, level: 'C', time: formatDeviceTime(0, c.time), name: 'crash', text: `${c.reason}: ${c.message}`, crash: c };
}

export function toEntry(r: LogRecord): LogEntry {
  return { prefix: r.prefix, received: r.received, id: r.id, line: { level: r.level, time: r.time, name: r.name, text: r.text }, ...(r.crash ? { crash: r.crash } : {}) };
}
