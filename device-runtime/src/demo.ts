// Sets a device root up to run the demo application (demo/blinky.mjs), as the demo fleet does.
import fs from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const BLINKY_SOURCE = fileURLToPath(new URL('../demo/blinky.mjs', import.meta.url));

/** Copies blinky to /lib and writes /config.json and /safemode/config.json unless present. */
export async function installDemo(root: string, period = 1): Promise<void> {
  await fs.mkdir(path.join(root, 'lib'), { recursive: true });
  await fs.mkdir(path.join(root, 'safemode'), { recursive: true });
  await fs.copyFile(BLINKY_SOURCE, path.join(root, 'lib', 'blinky.mjs'));
  const write = (p: string, v: unknown) => fs.writeFile(p, JSON.stringify(v, null, 2) + '\n', { flag: 'wx' }).catch(() => undefined);
  await write(path.join(root, 'config.json'), { modules: ['blinky'], blinky: { period } });
  await write(path.join(root, 'safemode', 'config.json'), { watchdog: { revert: true } });
}
