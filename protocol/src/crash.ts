// Crash records (docs/protocol.md, "Crash records"): written under the device root before a
// restart and published, retained, at `P/mqb/crash` afterwards.
import { z } from 'zod';
import { decodeJson, encodeJson } from './json';
import { CRASH_LIST_JSON, type JsonLimit } from './limits';
import type { Decoded } from './result';
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

/** Decodes the crash list, refusing one over `CRASH_LIST_JSON` before parsing it. */
export const decodeCrashList = (payload: Uint8Array): Decoded<CrashList> =>
  decodeJson(CrashList, payload, 'crash records', CRASH_LIST_JSON);

/** A stack this long still shows where a crash happened. */
const SHORT_STACK = 4096;

/** An upper bound on a record's JSON values as `checkJsonShape` counts them, and its comma in the list. */
const recordValues = (r: CrashRecord): number => 12 + r.log.length;

/**
 * Encodes the newest of `records` (oldest first, as stored) that fit `limit` together, so a host
 * never refuses the list: a record too big on its own loses its oldest log lines first, then the
 * end of its stack; if even that does not fit, it and every older record are left out.
 */
export function encodeCrashList(records: readonly CrashRecord[], limit: JsonLimit = CRASH_LIST_JSON): Uint8Array {
  // `{"crashes":[` + `]}`, and a comma between records; the object and the array are 2 values.
  let bytesLeft = limit.bytes - 14;
  let valuesLeft = limit.values - 2;
  const kept: CrashRecord[] = [];
  const fits = (r: CrashRecord) => encodeJson(r).length + 1 <= bytesLeft && recordValues(r) <= valuesLeft;
  for (let i = records.length - 1; i >= 0 && kept.length < 100; i--) {
    let r = records[i]!;
    while (!fits(r) && r.log.length > 0) r = { ...r, log: r.log.slice(Math.ceil(r.log.length / 2)) };
    if (!fits(r) && r.stack !== undefined && r.stack.length > SHORT_STACK) r = { ...r, stack: r.stack.slice(0, SHORT_STACK) };
    if (!fits(r)) break;
    kept.unshift(r);
    bytesLeft -= encodeJson(r).length + 1;
    valuesLeft -= recordValues(r);
  }
  return encodeJson({ crashes: kept });
}
