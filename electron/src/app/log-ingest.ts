// Feeds the log store from the engine: every line and every new crash record is stored before
// it is published, so the `logs` stream carries store ids (a view joins history and live lines
// by id) and lines arriving while no view is open are kept all the same.
import type { BridgeEvent, LogEntry } from '../../../protocol/src';
import type { LogRecord } from '../../../protocol/src/bridge-logs';
import type { Engine } from '../engine/types';
import type { LogStore } from './log-store';

/** Returns a function that stops listening. */
export function ingestLogs(engine: Engine, store: LogStore, publish: (e: BridgeEvent) => void): () => void {
  const offLogs = engine.on('logs', (entries) => {
    const stored = store.append(entries.map((e) => ({ prefix: e.prefix, received: e.received, ...e.line })));
    publish({ stream: 'logs', entries: stored.map(toEntry) });
  });
  const offCrashes = engine.on('crashes', (prefix, records) => {
    const stored = store.appendCrashes(prefix, records, Date.now());
    if (stored.length) publish({ stream: 'logs', entries: stored.map(toEntry) });
  });
  return () => {
    offLogs();
    offCrashes();
  };
}

export function toEntry(r: LogRecord): LogEntry {
  return { prefix: r.prefix, received: r.received, id: r.id, line: { level: r.level, time: r.time, name: r.name, text: r.text }, ...(r.crash ? { crash: r.crash } : {}) };
}
