// The log store's budgets: each device keeps at most `segmentBytes × segmentsPerDevice` (a
// chatty device cannot evict a quiet one's history); above `totalBytes` the oldest lines of the
// whole store go. A device or store over its budget loses its oldest lines in one step of
// `segmentBytes` (the store: a sixteenth of its budget, at least that), so eviction runs now
// and then on the database thread, never per line and never on the host's.
//
// Bytes are counted here, per device and per block of ids, so finding the oldest lines to drop
// does not need to ask the database.
import { sqlInt, type LogDb } from './log-db';
import { devSql } from './log-db-sql';

/** Bytes are counted per block of ids, to find the oldest lines to drop without asking the database. */
export const BLOCK = 16_384;

interface Device {
  profile: string;
  prefix: string;
  bytes: number;
}

const deviceKey = (profile: string, prefix: string) => `${profile}\0${prefix}`;

export interface LogBudget {
  /** Counts a line's bytes; `id` -1: bytes known per device only (at open, where blocks are loaded with `addBlock`). */
  add(profile: string, prefix: string, bytes: number, id: number): void;
  addBlock(block: number, bytes: number): void;
  /** Starts an eviction if a budget is exceeded and none is running. */
  check(): void;
  /** Resolves once no eviction is running. */
  idle(): Promise<void>;
  /** Deletes the lines `victims` (SQL: profile, prefix, id, bytes) selects, runs `extra` in the same transaction, and takes their bytes off. */
  drop(victims: string, extra?: string[]): Promise<void>;
  /** No id below this is stored (a block's start: a bound, not the exact oldest id); `next` when nothing is. */
  floorId(next: number): number;
  /** Budgeted bytes per device of a profile. */
  usage(profile: string): Map<string, number>;
  /** A device forgotten: its count goes. */
  forget(profile: string, prefix: string): void;
}

export function createLogBudget(o: {
  db: LogDb;
  segmentBytes: number;
  segmentsPerDevice: number;
  totalBytes: number;
  /** A device's number in the database. */
  devOf(profile: string, prefix: string): number;
  warn(message: string): void;
}): LogBudget {
  const { db } = o;
  const deviceBudget = o.segmentBytes * o.segmentsPerDevice;
  const deviceKeep = deviceBudget - o.segmentBytes;
  const totalKeep = o.totalBytes - Math.max(o.segmentBytes, Math.floor(o.totalBytes / 16));
  const devices = new Map<string, Device>();
  const blocks = new Map<number, number>();
  let total = 0;
  let evicting: Promise<void> | undefined;

  async function evict(): Promise<void> {
    for (let round = 0; round < 4; round++) {
      const over = [...devices.values()].filter((d) => d.bytes > deviceBudget);
      if (over.length) {
        // Per device: drop from the oldest until what is newer fits `deviceKeep`.
        await drop(`SELECT profile, prefix, id, bytes FROM (
            SELECT profile, prefix, id, bytes, sum(bytes) OVER (PARTITION BY dev ORDER BY id DESC ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS newer
            FROM lines WHERE ${devSql(over.map((d) => o.devOf(d.profile, d.prefix)))}) WHERE newer > ${sqlInt(deviceKeep)}`);
        continue;
      }
      if (total > o.totalBytes) {
        // The whole store: drop the oldest lines, whoever sent them, until the rest fits.
        const need = total - totalKeep;
        let end = 0;
        let sum = 0;
        for (const b of [...blocks.keys()].sort((x, y) => x - y)) {
          sum += blocks.get(b)!;
          end = (b + 1) * BLOCK;
          if (sum >= need) break;
        }
        await drop(`SELECT profile, prefix, id, bytes FROM (
            SELECT profile, prefix, id, bytes, sum(bytes) OVER (ORDER BY id ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) - bytes AS older
            FROM lines WHERE id < ${sqlInt(end)}) WHERE older < ${sqlInt(need)}`);
        continue;
      }
      return;
    }
  }

  async function drop(victims: string, extra: string[] = []): Promise<void> {
    let results: Record<string, unknown>[][];
    try {
      results = await db.write([
        `CREATE OR REPLACE TEMP TABLE victims AS ${victims}`,
        'SELECT profile, prefix, sum(bytes)::BIGINT AS bytes FROM victims GROUP BY ALL',
        `SELECT id // ${BLOCK} AS block, sum(bytes)::BIGINT AS bytes FROM victims GROUP BY ALL`,
        'DELETE FROM lines WHERE id IN (SELECT id FROM victims)',
        'DROP TABLE victims',
        ...extra,
      ]);
    } catch (e) {
      o.warn(`could not drop old lines: ${e instanceof Error ? e.message : e}`);
      return;
    }
    for (const r of results[1]!) {
      const k = deviceKey(String(r.profile), String(r.prefix));
      const d = devices.get(k);
      if (!d) continue;
      d.bytes -= Number(r.bytes);
      total -= Number(r.bytes);
      if (d.bytes <= 0) devices.delete(k);
    }
    for (const r of results[2]!) {
      const b = Number(r.block);
      const left = (blocks.get(b) ?? 0) - Number(r.bytes);
      if (left > 0) blocks.set(b, left);
      else blocks.delete(b);
    }
  }

  return {
    add(profile, prefix, bytes, id) {
      const k = deviceKey(profile, prefix);
      let d = devices.get(k);
      if (!d) devices.set(k, (d = { profile, prefix, bytes: 0 }));
      d.bytes += bytes;
      total += bytes;
      if (id >= 0) {
        const b = Math.floor(id / BLOCK);
        blocks.set(b, (blocks.get(b) ?? 0) + bytes);
      }
    },
    addBlock(block, bytes) {
      blocks.set(block, bytes);
    },
    check() {
      evicting ??= evict().finally(() => {
        evicting = undefined;
      });
    },
    async idle() {
      while (evicting) await evicting;
    },
    drop,
    floorId(next) {
      let min = Infinity;
      for (const b of blocks.keys()) if (b < min) min = b;
      return min === Infinity ? next : min * BLOCK;
    },
    usage(profile) {
      const m = new Map<string, number>();
      for (const d of devices.values()) if (d.profile === profile) m.set(d.prefix, d.bytes);
      return m;
    },
    forget(profile, prefix) {
      devices.delete(deviceKey(profile, prefix));
    },
  };
}
