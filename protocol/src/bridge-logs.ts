// The bridge contract's log part: history queries against the
// app host's on-disk log store and the export of a filtered view. Live lines keep travelling on
// the `logs` event stream (bridge.ts); the store stamps each one with an `id` so a view can join
// history and live lines without duplicates. Hooked into bridge.ts's `operations`.
import { z } from 'zod';
import { CrashRecord } from './crash';
import { LEVELS } from './log-line';

const Prefix = z.string().min(1).max(256).regex(/^[^#+\s]+$/, 'a topic prefix without wildcards or spaces');

/** What a log view shows: levels to keep and a text or regex search (all lines when empty). */
export const LogFilter = z
  .object({
    /** Levels to keep; absent or all five = every level. */
    levels: z.array(z.enum(LEVELS)).max(5).optional(),
    search: z.string().max(512).optional(),
    regex: z.boolean().optional(),
    caseSensitive: z.boolean().optional(),
  })
  .strict();
export type LogFilter = z.infer<typeof LogFilter>;

/** One stored line (or crash record) as history returns it. */
export const LogRecord = z.object({
  /** Store-wide arrival order: ids grow with every line of every device. */
  id: z.number().int().nonnegative(),
  prefix: z.string(),
  /** Received time, ms since the epoch. */
  received: z.number(),
  level: z.enum(LEVELS),
  /** Device time as sent (ms since boot or `HH:MM:SS.mmm`). */
  time: z.string(),
  name: z.string(),
  text: z.string(),
  /** Set on crash records (resilience issue), which the view shows with their stack. */
  crash: CrashRecord.optional(),
});
export type LogRecord = z.infer<typeof LogRecord>;

export const MAX_LOG_PAGE = 5_000;

export const LogPage = z.object({
  /** Oldest first. */
  records: z.array(LogRecord),
  /** Pass as `before` to continue towards older lines; null when history is exhausted. */
  cursor: z.number().int().nonnegative().nullable(),
});
export type LogPage = z.infer<typeof LogPage>;

export const LogExportResult = z.discriminatedUnion('kind', [
  /** Desktop app: written where the user chose in the save dialog. */
  z.object({ kind: z.literal('saved'), path: z.string(), lines: z.number().int() }),
  z.object({ kind: z.literal('cancelled') }),
  /** Web mode: the renderer offers the text as a download. */
  z.object({ kind: z.literal('download'), filename: z.string(), text: z.string(), lines: z.number().int() }),
]);
export type LogExportResult = z.infer<typeof LogExportResult>;

/** Received time, ms since the epoch: `since` inclusive, `until` exclusive. */
const TimeRange = { since: z.number().nonnegative().optional(), until: z.number().nonnegative().optional() };

const op = <A extends z.ZodType, R extends z.ZodType>(args: A, result: R, timeoutMs: number) => ({ args, result, timeoutMs }) as const;

export const logOperations = {
  /**
   * A page of stored history, newest last, ending before `before` (an id; absent = the newest).
   * Without `prefix` the whole fleet, interleaved in arrival order. Filtering and search run in
   * the host so older matches are found without shipping every line to the renderer.
   */
  queryLogs: op(
    z
      .object({
        prefix: Prefix.optional(),
        filter: LogFilter,
        before: z.number().int().nonnegative().optional(),
        limit: z.number().int().min(1).max(MAX_LOG_PAGE),
        ...TimeRange,
      })
      .strict(),
    LogPage,
    30_000,
  ),
  /** Writes every stored line matching the view (device or fleet, filter) to a file. */
  exportLogs: op(z.object({ prefix: Prefix.optional(), filter: LogFilter, ...TimeRange }).strict(), LogExportResult, 300_000),
} as const;
