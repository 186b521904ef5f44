// The device's own config file, like the original's board_config: `/config.json` in normal
// mode, `/safemode/config.json` in safe mode (a separate copy, so a broken application update
// cannot take remote access away). Broker settings come from the command line instead, as the
// secrets file would on a board.
import fs from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { decodeValue } from '../../protocol/src';
import { MODULE_NAME } from './bundle';

export const WatchdogConfig = z
  .object({
    /** Seconds without a feed before the watchdog resets the runtime (original: 120-300). */
    timeoutS: z.number().positive().max(3600).default(120),
    /** The shorter timeout armed at boot until the first feed (original: 70). */
    initialS: z.number().positive().max(3600).default(70),
    /** Seconds of good feeding after which the boot counts as good (original: 180-300). */
    allokS: z.number().nonnegative().max(86_400).default(180),
    /** In safe mode, reset into normal mode after all-OK. */
    revert: z.boolean().default(false),
  })
  .strict();
export type WatchdogConfig = z.infer<typeof WatchdogConfig>;

export const DeviceConfig = z
  .object({
    /** Application modules to start, in order; normal mode only, and only while no app bundle is installed. */
    modules: z.array(z.string().regex(MODULE_NAME)).max(64).optional(),
    watchdog: WatchdogConfig.default(WatchdogConfig.parse({})),
    /** Consecutive boots that do not reach all-OK before the device boots safe. */
    maxFailedBoots: z.number().int().min(1).max(100).default(3),
    /** Labels the device reports in its status, for grouping in fleets. */
    tags: z.array(z.string().min(1).max(32)).max(16).optional(),
  })
  // Every other key is a module's config: `{"modules":["blinky"],"blinky":{"period":2}}`.
  .catchall(z.unknown());
export type DeviceConfig = z.infer<typeof DeviceConfig>;

export const configPath = (root: string, safe: boolean): string =>
  safe ? path.join(root, 'safemode', 'config.json') : path.join(root, 'config.json');

/** Reads a config file; a missing file is the defaults, a broken one is an error. */
export async function readDeviceConfig(file: string): Promise<DeviceConfig> {
  let raw: string;
  try {
    raw = await fs.readFile(file, 'utf8');
  } catch {
    return DeviceConfig.parse({});
  }
  let v: unknown;
  try {
    v = JSON.parse(raw);
  } catch (e) {
    throw new Error(`${path.basename(file)} is not JSON: ${(e as Error).message}`);
  }
  const r = decodeValue(DeviceConfig, v, path.basename(file));
  if (!r.ok) throw new Error(r.error);
  return r.value;
}
