// `mqboard-device --devices <file>`: several boards from one command, each with settings of its
// own (firmware, boot mode, status rate), e.g. the app's demo fleet, whose boards differ. The
// connection (server, credentials) comes from the usual flags, environment and --config.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { decodeValue, Mode } from '../../protocol/src';

export const DeviceEntry = z
  .object({
    prefix: z.string().min(1).max(200),
    /** Relative to the file's folder. */
    root: z.string().min(1),
    firmware: z.string().min(1).max(64).optional(),
    mode: Mode.optional(),
    statusIntervalMs: z.number().int().min(1000).max(86_400_000).optional(),
    keepaliveS: z.number().int().min(1).max(65_535).optional(),
    moduleRetryMs: z.number().int().min(0).max(3_600_000).optional(),
    /** The RAM of the board it stands in for: its status reports that board's free memory. */
    simulatedRamBytes: z.number().int().min(16 * 1024).max(64 * 1024 ** 3).optional(),
    /** A board that sleeps this long between wakes (status reason `sleep`), like --sleep-cycle. */
    sleepCycleMs: z.number().int().min(100).max(86_400_000).optional(),
    /** Its idle time awake before sleeping again, like --awake. */
    awakeMs: z.number().int().min(100).max(3_600_000).optional(),
  })
  .strict();
export type DeviceEntry = z.infer<typeof DeviceEntry>;

export const DevicesFile = z.object({ devices: z.array(DeviceEntry).min(1).max(999) }).strict();
export type DevicesFile = z.infer<typeof DevicesFile>;

/** The file's devices with absolute roots; a prefix or root used twice is an error. */
export function readDevicesFile(file: string): DeviceEntry[] {
  let v: unknown;
  try {
    v = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new Error(`cannot read devices file ${file}: ${(e as Error).message}`);
  }
  const r = decodeValue(DevicesFile, v, `devices file ${file}`);
  if (!r.ok) throw new Error(r.error);
  const dir = path.dirname(path.resolve(file));
  const devices = r.value.devices.map((d) => ({ ...d, root: path.resolve(dir, d.root) }));
  for (const d of devices) {
    if (d.awakeMs !== undefined && d.sleepCycleMs === undefined) throw new Error(`invalid devices file ${file}: ${d.prefix} has awakeMs without sleepCycleMs`);
  }
  for (const key of ['prefix', 'root'] as const) {
    const seen = new Set<string>();
    for (const d of devices) {
      if (seen.has(d[key])) throw new Error(`invalid devices file ${file}: ${key} ${d[key]} is used twice`);
      seen.add(d[key]);
    }
  }
  return devices;
}
