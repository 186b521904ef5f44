// Messages between the supervisor and the runtime child over Node's IPC channel. Both sides
// parse what they receive: a confused or compromised child must not confuse the supervisor.
import { z } from 'zod';
import { Mode, ResetMode } from '../../protocol/src';

/** The DeviceOptions that can cross a process boundary (no functions). */
export const ChildOptions = z.object({
  url: z.string(),
  username: z.string().optional(),
  password: z.string().optional(),
  ca: z.string().optional(),
  prefix: z.string(),
  root: z.string(),
  maxChunk: z.number().int().positive().optional(),
  maxImage: z.number().int().positive().optional(),
  statusIntervalMs: z.number().positive().optional(),
  firmware: z.string().optional(),
  evalTimeoutMs: z.number().positive().optional(),
  ackTimeoutMs: z.number().positive().optional(),
  transferIdleMs: z.number().positive().optional(),
  clientId: z.string().optional(),
  keepaliveS: z.number().positive().optional(),
  reconnectPeriodMs: z.number().nonnegative().optional(),
  mode: Mode.optional(),
  moduleRetryMs: z.number().nonnegative().optional(),
  simulatedRamBytes: z.number().int().positive().optional(),
  sleepCycleMs: z.number().int().positive().optional(),
  awakeMs: z.number().int().positive().optional(),
  /** How often the child proves its event loop runs. */
  heartbeatMs: z.number().positive(),
});
export type ChildOptions = z.infer<typeof ChildOptions>;

export const ToChild = z.discriminatedUnion('t', [
  z.object({ t: z.literal('start'), options: ChildOptions }),
  z.object({ t: z.literal('stop') }),
]);
export type ToChild = z.infer<typeof ToChild>;

export const FromChild = z.discriminatedUnion('t', [
  /** The event loop is alive. */
  z.object({ t: z.literal('beat') }),
  /** Arm the watchdog with this timeout. */
  z.object({ t: z.literal('arm'), ms: z.number().positive() }),
  /** A feed came back through the broker. */
  z.object({ t: z.literal('feed') }),
  /** The watchdog stops until armed again (the device sleeps, or stops). */
  z.object({ t: z.literal('disarm') }),
  z.object({ t: z.literal('log'), line: z.string().max(2048) }),
  /** A command started. */
  z.object({ t: z.literal('cmd'), id: z.string().max(64) }),
  z.object({ t: z.literal('booted'), mode: Mode, bootCount: z.number().int().nonnegative() }),
  /** About to die of an uncaught exception or unhandled rejection. */
  z.object({
    t: z.literal('fatal'),
    reason: z.enum(['exception', 'rejection']),
    message: z.string().max(4096),
    stack: z.string().max(65536).optional(),
  }),
  /** About to exit for a requested reset; RTC memory has been written. */
  z.object({ t: z.literal('reset'), mode: ResetMode }),
]);
export type FromChild = z.infer<typeof FromChild>;
