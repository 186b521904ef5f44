// Crash records (docs/protocol.md, "Crash records"): written under the device root before a
// restart and published, retained, at `P/mqb/crash` afterwards.
import { z } from 'zod';
import { Mode } from './status';

export const CrashReason = z.enum(['exception', 'rejection', 'watchdog', 'blocked', 'signal', 'exit', 'boot-failure']);
export type CrashReason = z.infer<typeof CrashReason>;

export const CrashRecord = z.object({
  id: z.string().max(64),
  time: z.number().nonnegative(),
  bootCount: z.number().int().nonnegative(),
  mode: Mode,
  reason: CrashReason,
  message: z.string().max(4096),
  stack: z.string().max(64 * 1024).optional(),
  /** The last log lines before the crash, formatted as on `P/log`. */
  log: z.array(z.string().max(2048)).max(500),
});
export type CrashRecord = z.infer<typeof CrashRecord>;

export const CrashList = z.object({ crashes: z.array(CrashRecord).max(100) });
export type CrashList = z.infer<typeof CrashList>;
