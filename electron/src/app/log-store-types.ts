// What the log store takes and answers (log-store.ts): its options, the lines it is given, its
// queries and crash counts, and the store itself.
import type { CrashRecord, Level } from '../../../protocol/src';
import type { LogFilter, LogPage, LogRecord } from '../../../protocol/src/bridge-logs';

export interface LogStoreOptions {
  dir: string;
  /** Eviction step of a device over its budget (default 2 MiB). */
  segmentBytes?: number;
  /** A device's budget in steps (default 4: 8 MiB per device). */
  segmentsPerDevice?: number;
  /** Cap on the whole store (default 512 MiB). */
  totalBytes?: number;
  /** How long lines wait before they go to the database (default 250 ms). */
  flushMs?: number;
  /** Profile key the JSON-lines history of older versions is imported under (default `default`). */
  legacyProfile?: string;
  /** DuckDB's memory limit (default 128MB: a million lines take about 30 MB, compressed). */
  memoryLimit?: string;
}

/** A line to store, as the engine delivers it. */
export interface IncomingLine {
  prefix: string;
  received: number;
  level: Level;
  time: string;
  name: string;
  text: string;
  crash?: CrashRecord;
}

export interface LogQuery {
  prefix?: string;
  filter: LogFilter;
  before?: number;
  limit: number;
  /** Received time range, ms since the epoch: `since` inclusive, `until` exclusive. */
  since?: number;
  until?: number;
  /** Stops after looking through this many ids, so a rare search answers in steps the renderer continues. */
  scanLimit?: number;
}

/** What an export walks: a query without paging. */
export type LogExportQuery = Omit<LogQuery, 'before' | 'limit' | 'scanLimit'>;

export interface CrashCount {
  prefix: string;
  count: number;
  /** When the newest crash happened, ms since the epoch. */
  last: number;
}

export interface CrashDay {
  /** `YYYY-MM-DD` in the caller's time zone (utcOffsetMinutes). */
  day: string;
  count: number;
}

export interface LogStore {
  /** Which broker's history lines arriving from now on, and every view, belong to. */
  setProfile(key: string): void;
  profile(): string;
  /** Queues lines for writing and returns them with their ids (same order). */
  append(lines: IncomingLine[]): LogRecord[];
  /**
   * Stores the crash records not stored before (devices re-publish their retained records on
   * every connection; each is kept once, across restarts) as critical lines, oldest first.
   */
  appendCrashes(prefix: string, records: CrashRecord[], received: number): LogRecord[];
  /** Newest matching records before `before`, oldest first, and where to continue. */
  query(q: LogQuery): Promise<LogPage>;
  /** Every matching record, oldest first (export); `fn` may return a promise to apply backpressure. */
  each(q: LogExportQuery, fn: (r: LogRecord) => void | Promise<void>): Promise<void>;
  /** Crash records per device of a profile (default: the current one). */
  crashCounts(profile?: string): Promise<CrashCount[]>;
  /** Crash records per day for the last `days` days, oldest first, days without crashes included. */
  crashesPerDay(profile: string | undefined, days: number, o?: { prefix?: string; now?: number; utcOffsetMinutes?: number }): Promise<CrashDay[]>;
  /** Removes a device's lines and crash records (current profile). */
  forgetDevice(prefix: string): Promise<void>;
  /** Writes everything queued, evictions included. */
  flush(): Promise<void>;
  /** Budgeted bytes per device of the current profile (tests, diagnostics). */
  usage(): Map<string, number>;
  /** Settles when the JSON-lines history of an older version is imported (its line count). */
  imported: Promise<number>;
  close(): Promise<void>;
}
