// The bridge contract's fleet part: the tags and saved views the user keeps per broker profile,
// actions run on many devices at once ("jobs") with their streamed results table, the queue
// of commands waiting for offline or sleeping devices, the history the fleet overview charts,
// and how complete the device list is. Hooked into bridge.ts's `operations` and `BridgeEvent`.
//
// A job is one action (eval, put, reset) on a set of devices; the host runs it with the
// engine's scheduler (electron/src/engine/fleet/run-many.ts), streams each device's result on
// the `jobs` stream as it arrives, and keeps the last jobs so a reloaded page can show them.
// Devices that are offline fail at once as `offline`, or, with `offline: 'queue'`, wait in the
// host's command queue (it survives a restart) and their row changes when they come back.
import { z } from 'zod';
import { DevicePath } from './bridge-files';
import { ResetMode } from './files';
import { keyedRecord } from './keyed-record';
import { MAX_SELECTOR_CHARS } from './fleet/selector';

const Prefix = z.string().min(1).max(256).regex(/^[^#+\s]+$/, 'a topic prefix without wildcards or spaces');
const Id = z.string().regex(/^[A-Za-z0-9_-]{1,40}$/, 'an id');
/** Most devices one job, tag edit or rollout names (the largest fleet the list is built for). */
export const MAX_FLEET_SELECTION = 10_000;

/** A tag the user gives devices: one selector word (no spaces, commas, colons or quotes). */
export const Tag = z
  .string()
  .min(1)
  .max(32)
  .regex(/^[^\s,:"'\\]+$/, 'a tag without spaces, commas, colons or quotes');

/** A named selector shown in the sidebar. */
export const SavedView = z.object({
  name: z.string().trim().min(1).max(64),
  selector: z.string().max(MAX_SELECTOR_CHARS),
});
export type SavedView = z.infer<typeof SavedView>;

/** What the app keeps per broker profile for fleet work. */
export const FleetSettings = z.object({
  /** The profile these belong to (`demo` for the demo broker); null when not connected. */
  profile: z.string().nullable(),
  /** Tags the user gave devices, by exact prefix (added to the tags a device reports). */
  tags: keyedRecord(z.string(), z.array(Tag).max(32)),
  views: z.array(SavedView).max(100),
});
export type FleetSettings = z.infer<typeof FleetSettings>;

/** How complete the device list is (the engine's DiscoveryState). */
export const DiscoveryInfo = z.object({
  phase: z.enum(['idle', 'listing', 'listed']),
  /** The list may miss devices: the broker dropped retained statuses, or refused a subscription. */
  incomplete: z.boolean(),
  reason: z.string().optional(),
  listed: z.number().int().nonnegative().optional(),
  since: z.number(),
});
export type DiscoveryInfo = z.infer<typeof DiscoveryInfo>;

// ---------------------------------------------------------------------------------------------
// Jobs

export const JobAction = z.discriminatedUnion('kind', [
  /** An expression (its repr comes back) or statements (their output comes back). */
  z.object({ kind: z.literal('eval'), code: z.string().min(1).max(256 * 1024) }).strict(),
  /** Staged files (bridge-files.ts `xferStage`) written to device paths, each verified. */
  z
    .object({
      kind: z.literal('put'),
      files: z.array(z.object({ path: DevicePath, stage: Id }).strict()).min(1).max(200),
      /** Like `sync`: skip each file the device already holds with the same SHA-256. */
      onlyChanged: z.boolean().optional(),
    })
    .strict(),
  z.object({ kind: z.literal('reset'), mode: ResetMode }).strict(),
]);
export type JobAction = z.infer<typeof JobAction>;

export const Outcome = z.enum(['ok', 'error', 'timeout', 'offline', 'queued', 'cancelled']);

/** One row of a job's table (protocol/src/fleet/results.ts `DeviceResult`), plus `running`. */
export const JobResult = z.object({
  prefix: z.string(),
  status: z.union([Outcome, z.literal('running')]),
  output: z.string().optional(),
  error: z.string().optional(),
  ms: z.number().nonnegative(),
  /** ms since the epoch when this row last changed. */
  at: z.number(),
});
export type JobResult = z.infer<typeof JobResult>;

export const JobSummary = z.object({
  id: Id,
  kind: z.enum(['eval', 'put', 'reset']),
  /** What ran, in one line for the table's title: the code, the paths, or the reset mode. */
  title: z.string(),
  created: z.number(),
  /** Set once every device has a final result (queued rows may still change later). */
  ended: z.number().optional(),
  state: z.enum(['running', 'done', 'cancelled']),
  total: z.number().int().nonnegative(),
  /** Rows per status so far (`running` and `pending` included). */
  counts: z.record(z.string(), z.number().int().nonnegative()),
  /** The job this one re-ran the failed devices of. */
  rerunOf: Id.optional(),
});
export type JobSummary = z.infer<typeof JobSummary>;

/** Rows that changed since the last event for this job, with the job's new summary. */
export const JobsEvent = z.object({ stream: z.literal('jobs'), job: JobSummary, results: z.array(JobResult) });
export type JobsEvent = z.infer<typeof JobsEvent>;

/** A command waiting in the host's queue for a device that is offline or asleep. */
export const QueuedCommand = z.object({
  id: z.string(),
  prefix: z.string(),
  kind: z.enum(['eval', 'put', 'reset']),
  /** One line: the code, the path or the reset mode. */
  title: z.string(),
  queuedAt: z.number(),
  /** Runs that ended with the device gone again before answering. */
  attempts: z.number().int().nonnegative(),
  /** The job whose table shows its result, when it came from one. */
  job: Id.optional(),
});
export type QueuedCommand = z.infer<typeof QueuedCommand>;

export const QueueEvent = z.object({ stream: z.literal('queue'), items: z.array(QueuedCommand) });
export const FleetEvent = z.object({ stream: z.literal('fleet'), settings: FleetSettings });
export const DiscoveryEvent = z.object({ stream: z.literal('discovery'), state: DiscoveryInfo });

/** What the fleet overview charts besides the device list itself. */
export const FleetHistory = z.object({
  /** Online and known devices sampled over time (oldest first), ms since the epoch. */
  online: z.array(z.object({ t: z.number(), online: z.number().int().nonnegative(), total: z.number().int().nonnegative() })),
  /** Crash records received per UTC day (`YYYY-MM-DD`), oldest first, for the last days. */
  crashesPerDay: z.array(z.object({ day: z.string(), count: z.number().int().nonnegative() })),
});
export type FleetHistory = z.infer<typeof FleetHistory>;

const Empty = z.object({}).strict();
const op = <A extends z.ZodType, R extends z.ZodType>(args: A, result: R, timeoutMs: number) => ({ args, result, timeoutMs }) as const;
const Selection = z.array(Prefix).min(1).max(MAX_FLEET_SELECTION);

export const fleetOperations = {
  getFleetSettings: op(Empty, FleetSettings, 5_000),
  /** Adds and removes user tags on many devices at once (kept per broker profile). */
  setTags: op(
    z.object({ prefixes: Selection, add: z.array(Tag).max(32).default([]), remove: z.array(Tag).max(32).default([]) }).strict(),
    FleetSettings,
    10_000,
  ),
  /** Saves a named selector, replacing one of the same name. */
  saveView: op(SavedView.strict(), FleetSettings, 5_000),
  deleteView: op(z.object({ name: z.string().max(64) }).strict(), FleetSettings, 5_000),
  /** How complete the device list is now (also pushed on the `discovery` stream). */
  getDiscovery: op(Empty, DiscoveryInfo, 5_000),

  /** Starts an action on many devices; results stream on `jobs`. */
  jobStart: op(
    z
      .object({
        action: JobAction,
        prefixes: Selection,
        concurrency: z.number().int().min(1).max(256).default(16),
        timeoutMs: z.number().int().min(1_000).max(600_000).default(30_000),
        /** What happens to a device known to be offline: fail at once, or queue until it is back. */
        offline: z.enum(['fail', 'queue']).default('fail'),
      })
      .strict(),
    z.object({ job: JobSummary }),
    30_000,
  ),
  /** Runs a job's action again on its devices that did not end ok (or on all of them). */
  jobRerun: op(z.object({ job: Id, which: z.enum(['failed', 'all']).default('failed') }).strict(), z.object({ job: JobSummary }), 30_000),
  /** Stops a running job: devices not finished end as `cancelled`; queued commands stay queued. */
  jobCancel: op(z.object({ job: Id }).strict(), Empty, 5_000),
  /** A job's whole table, e.g. for a page opened after it started. */
  jobGet: op(z.object({ job: Id }).strict(), z.object({ job: JobSummary, results: z.array(JobResult) }), 10_000),
  /** The recent jobs, newest first. */
  jobList: op(Empty, z.object({ jobs: z.array(JobSummary) }), 5_000),

  /** Commands waiting for offline or sleeping devices on the current broker. */
  queueList: op(z.object({ prefix: Prefix.optional() }).strict(), z.object({ items: z.array(QueuedCommand) }), 5_000),
  queueRemove: op(z.object({ id: z.string().min(1).max(64) }).strict(), Empty, 5_000),

  fleetHistory: op(Empty, FleetHistory, 10_000),
} as const;
