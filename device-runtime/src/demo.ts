// The demo's device side: sets a device root up to run the demo application
// (demo/blinky.mjs), as the demo fleet does, and builds the example app bundles in
// demo/bundles/ (a good update and one whose app crashes at boot) for trying OTA and rollouts.
import fs from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { decodeValue } from '../../protocol/src';
import { createBundle, MODULE_NAME } from './bundle';

export const BLINKY_SOURCE = fileURLToPath(new URL('../demo/blinky.mjs', import.meta.url));
/** One folder per example bundle: `bundle.json` (name, version, modules, description) and the app's files. */
export const DEMO_BUNDLES_DIR = fileURLToPath(new URL('../demo/bundles/', import.meta.url));

/** Copies blinky to /lib and writes /config.json and /safemode/config.json unless present. */
export async function installDemo(root: string, period = 1): Promise<void> {
  await fs.mkdir(path.join(root, 'lib'), { recursive: true });
  await fs.mkdir(path.join(root, 'safemode'), { recursive: true });
  await fs.copyFile(BLINKY_SOURCE, path.join(root, 'lib', 'blinky.mjs'));
  const write = (p: string, v: unknown) => fs.writeFile(p, JSON.stringify(v, null, 2) + '\n', { flag: 'wx' }).catch(() => undefined);
  await write(path.join(root, 'config.json'), { modules: ['blinky'], blinky: { period } });
  await write(path.join(root, 'safemode', 'config.json'), { watchdog: { revert: true } });
}

const DemoBundleInfo = z
  .object({
    name: z.string().min(1).max(64),
    version: z.string().min(1).max(64),
    modules: z.array(z.string().regex(MODULE_NAME)).max(64),
    description: z.string().min(1).max(500),
  })
  .strict();

export interface DemoBundle {
  /** The example's name (its folder), unique among them, e.g. `greenhouse-2.5.0`. */
  name: string;
  description: string;
  /** The version the bundle installs. */
  version: string;
  /** The bundle (`mqboard-app/1` tar), as the runtime's OTA takes it. */
  bytes: Uint8Array;
}

/** Every file under `dir`, by its path relative to `dir` with forward slashes. */
async function filesUnder(dir: string, rel = ''): Promise<string[]> {
  const out: string[] = [];
  for (const e of await fs.readdir(path.join(dir, rel), { withFileTypes: true })) {
    const r = rel ? `${rel}/${e.name}` : e.name;
    if (e.isDirectory()) out.push(...(await filesUnder(dir, r)));
    else if (e.isFile()) out.push(r);
  }
  return out.sort();
}

/** Builds each example in `dir` (default: the runtime's demo/bundles) into a real app bundle, sorted by name. */
export async function buildDemoBundles(dir: string = DEMO_BUNDLES_DIR): Promise<DemoBundle[]> {
  const names = (await fs.readdir(dir, { withFileTypes: true })).filter((e) => e.isDirectory()).map((e) => e.name).sort();
  return Promise.all(
    names.map(async (name) => {
      const folder = path.join(dir, name);
      const infoFile = path.join(folder, 'bundle.json');
      let raw: unknown;
      try {
        raw = JSON.parse(await fs.readFile(infoFile, 'utf8'));
      } catch (e) {
        throw new Error(`demo bundle ${name}: cannot read bundle.json: ${(e as Error).message}`);
      }
      const info = decodeValue(DemoBundleInfo, raw, `demo bundle ${name}/bundle.json`);
      if (!info.ok) throw new Error(info.error);
      const files: Record<string, Uint8Array> = {};
      for (const f of await filesUnder(folder)) if (f !== 'bundle.json') files[f] = await fs.readFile(path.join(folder, f));
      const { description, ...manifest } = info.value;
      const bytes = await createBundle(manifest, files);
      return { name, description, version: manifest.version, bytes: new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength) };
    }),
  );
}
