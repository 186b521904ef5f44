// Crash records in the log store: each is a critical line (its stack travels along in `crash`)
// and a row of the crashes table, kept once across restarts by its key, and counted per device
// and per day for the fleet overview.
import { formatDeviceTime, type CrashRecord } from '../../../protocol/src';
import { sqlInt, sqlString, type LogDb } from './log-db';
import type { CrashCount, CrashDay, IncomingLine } from './log-store-types';

/** A device clock before 2020 is not a clock: such a crash is dated when it was received. */
const PLAUSIBLE_CLOCK = Date.UTC(2020, 0, 1);
const DAY = 86_400_000;

/** A device may reuse ids after a wipe; with the crash time the key stays unique. */
export const crashKey = (c: CrashRecord) => `${c.id}@${c.time}`;

/** When the crash happened, as the crashes table dates it. */
export function crashTime(c: CrashRecord, received: number): number {
  return c.time >= PLAUSIBLE_CLOCK ? c.time : received;
}

/** A crash record as a critical line (its stack travels along in `crash`). */
export function crashLine(prefix: string, c: CrashRecord, received: number): IncomingLine {
  return { prefix, received, level: 'C', time: formatDeviceTime(0, c.time), name: 'crash', text: `${c.reason}: ${c.message}`, crash: c };
}

/** Crash records per device of a profile, after every line sent to the database before. */
export async function countCrashes(db: LogDb, profile: string): Promise<CrashCount[]> {
  const [rows] = await db.syncedRead([
    `SELECT prefix, count(*)::BIGINT AS count, max(crashed) AS last FROM crashes WHERE profile = ${sqlString(profile)} AND crashed IS NOT NULL GROUP BY prefix ORDER BY prefix`,
  ]);
  return rows!.map((r) => ({ prefix: String(r.prefix), count: Number(r.count), last: Number(r.last) }));
}

/** Crash records per day for the last `days` days (at most ten years), oldest first, days without crashes included. */
export async function countCrashesPerDay(db: LogDb, profile: string, days: number, opt: { prefix?: string; now?: number; utcOffsetMinutes?: number } = {}): Promise<CrashDay[]> {
  const n = Math.max(1, Math.min(3660, Math.floor(days)));
  const offset = Math.round((opt.utcOffsetMinutes ?? 0) * 60_000);
  const today = Math.floor(((opt.now ?? Date.now()) + offset) / DAY);
  const first = today - n + 1;
  const [rows] = await db.syncedRead([
    `SELECT floor((crashed + ${sqlInt(offset)}) / ${DAY})::BIGINT AS day, count(*)::BIGINT AS count FROM crashes
     WHERE profile = ${sqlString(profile)}${opt.prefix !== undefined ? ` AND prefix = ${sqlString(opt.prefix)}` : ''}
       AND crashed >= ${sqlInt(first * DAY - offset)} AND crashed < ${sqlInt((today + 1) * DAY - offset)} GROUP BY ALL`,
  ]);
  const counts = new Map(rows!.map((r) => [Number(r.day), Number(r.count)]));
  return Array.from({ length: n }, (_, i) => ({ day: new Date((first + i) * DAY).toISOString().slice(0, 10), count: counts.get(first + i) ?? 0 }));
}
