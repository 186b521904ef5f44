// "RTC memory": a small state file that survives resets of the runtime but not a power cycle
// (a fresh start of the supervisor, or of an in-process device, clears it), as the ESP32's RTC
// memory does (wire facts, "Watchdog and safe mode"). It decides the mode of the next boot.
import fs from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { BootReason, Mode } from '../../protocol/src';
import { writeFileAtomic } from './ota-slots';

const RtcState = z.object({
  bootCount: z.number().int().nonnegative(),
  /**
   * Boots since the last one that reached "all OK". Incremented at every boot (pessimistically:
   * a boot is failed until proven good) and cleared by all-OK, so a device that keeps crashing,
   * hanging or failing to start its modules reaches `maxFailedBoots` and boots safe.
   */
  failedBoots: z.number().int().nonnegative(),
  /** Why the runtime last went down, written by whoever took it down. */
  resetReason: BootReason.nullable(),
  /** Mode asked for by `reset` (normal / safe); wins over the failure count once. */
  request: Mode.nullable(),
  /**
   * Ids of the commands that were running or had just run when the runtime died. The next boot
   * ignores them if the broker redelivers them: the original relies on the DUP flag for this,
   * but not every broker sets it on redelivery (aedes does not), and a command that killed the
   * runtime once would kill it again.
   */
  poison: z.array(z.string().max(64)).max(8).default([]),
});
export type RtcState = z.infer<typeof RtcState>;

const BLANK: RtcState = { bootCount: 0, failedBoots: 0, resetReason: null, request: null, poison: [] };

export interface Rtc {
  load(): Promise<RtcState>;
  save(s: RtcState): Promise<void>;
  update(f: (s: RtcState) => RtcState): Promise<RtcState>;
  /** Power loss: RTC memory is gone. */
  clear(): Promise<void>;
}

export function rtcMemory(privateDir: string): Rtc {
  const file = path.join(privateDir, 'rtc.json');
  const rtc: Rtc = {
    async load() {
      try {
        const r = RtcState.safeParse(JSON.parse(await fs.readFile(file, 'utf8')));
        // Garbage in RTC memory reads as blank, which boots normal: like a cold boot.
        return r.success ? r.data : { ...BLANK };
      } catch {
        return { ...BLANK };
      }
    },
    save: (s) => writeFileAtomic(file, JSON.stringify(s)),
    async update(f) {
      const next = f(await rtc.load());
      await rtc.save(next);
      return next;
    },
    clear: () => fs.rm(file, { force: true }),
  };
  return rtc;
}

export interface BootDecision {
  mode: Mode;
  reason: BootReason;
  bootCount: number;
  failedBoots: number;
  poison: string[];
}

/**
 * The boot-mode rule: an explicit request from `reset` first; otherwise safe mode once
 * `maxFailedBoots` boots in a row have not reached all-OK; otherwise the configured mode.
 */
export function decideBoot(s: RtcState, maxFailedBoots: number, configured: Mode): { decision: BootDecision; next: RtcState } {
  const mode: Mode = s.request ?? (s.failedBoots >= maxFailedBoots ? 'safe' : configured);
  const decision: BootDecision = {
    mode,
    reason: s.resetReason ?? 'cold',
    bootCount: s.bootCount + 1,
    failedBoots: s.failedBoots + 1,
    poison: s.poison,
  };
  return { decision, next: { bootCount: decision.bootCount, failedBoots: decision.failedBoots, resetReason: null, request: null, poison: [] } };
}
