// The OTA image of this runtime: an application bundle. Format `mqboard-app/1`: a tar archive
// (gzip allowed) holding `manifest.json` and the app's ES modules, e.g.
//
//   manifest.json   {"format":"mqboard-app/1","name":"weather","version":"1.4.0","modules":["sensors"]}
//   sensors.mjs     export function start(mqtt, config) { ... }
//   lib/util.mjs    (anything the modules import relatively)
//
// Only regular files and directories are allowed, no absolute paths, no `..`, at most
// MAX_FILES entries and the image size limit unpacked. `modules` names the modules a device
// starts when its config.json does not list its own.
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import * as tar from 'tar';
import { z } from 'zod';
import { decodeValue } from '../../protocol/src';
import { DeviceError } from './errors';
import { ESP_IMAGE_MAGIC } from './original/ota';

export const BUNDLE_FORMAT = 'mqboard-app/1';
export const MODULE_NAME = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}$/;
const MAX_FILES = 2000;

export const Manifest = z.object({
  format: z.literal(BUNDLE_FORMAT),
  name: z.string().min(1).max(64),
  version: z.string().min(1).max(64),
  modules: z.array(z.string().regex(MODULE_NAME)).max(64).default([]),
});
export type Manifest = z.infer<typeof Manifest>;

const TAR_BLOCK = 512;
// The ESP32 image header's magic byte, defined with the board simulator that checks it.
export { ESP_IMAGE_MAGIC };

/**
 * Why an image whose first bytes are `head` cannot be an app bundle, in words; undefined when it
 * may be one (a tar header, or gzip data, which only unpacking can judge). Pass at least 512 bytes
 * when there are that many.
 */
export function whyNotBundle(head: Uint8Array): string | undefined {
  if (head.length === 0) return 'the image is empty';
  if (head[0] === 0x1f && head[1] === 0x8b) return undefined;
  if (head[0] === ESP_IMAGE_MAGIC) return 'it starts with 0xE9, like ESP32 firmware: that is for an original board, not for this runtime';
  if (head[0] === 0x50 && head[1] === 0x4b) return 'it is a zip archive; a bundle is a tar archive (gzip allowed)';
  if (head.length < TAR_BLOCK) return `it has ${head.length} bytes, fewer than one tar header`;
  if (head.subarray(0, TAR_BLOCK).every((b) => b === 0)) return 'the archive has no entries';
  // A tar header's checksum (bytes 148-155, octal) is the sum of the header's bytes with the
  // checksum field counted as spaces (old tars summed signed bytes).
  const field = Buffer.from(head.subarray(148, 156)).toString('latin1').replace(/[\0 ]+$/, '').trim();
  let sum = 8 * 0x20;
  let signed = sum;
  for (let i = 0; i < TAR_BLOCK; i++) {
    if (i >= 148 && i < 156) continue;
    sum += head[i]!;
    signed += head[i]! > 127 ? head[i]! - 256 : head[i]!;
  }
  const want = /^[0-7]+$/.test(field) ? parseInt(field, 8) : NaN;
  if (want !== sum && want !== signed) return 'it does not start with a tar header';
  return undefined;
}

/** A tar/zlib failure in words. */
function tarFailureInWords(e: unknown): string {
  const code = typeof e === 'object' && e !== null ? (e as { code?: unknown }).code : undefined;
  const msg = e instanceof Error ? e.message : String(e);
  if (/truncated/i.test(msg)) return 'the archive is truncated';
  if (typeof code === 'string' && code.startsWith('Z_')) return 'its gzip data is damaged';
  if (code === 'TAR_BAD_ARCHIVE') return 'it is not a tar archive';
  if (code === 'TAR_ENTRY_INVALID') return 'an entry header in the archive is damaged';
  return msg;
}

async function readHead(file: string): Promise<Uint8Array> {
  const fh = await fs.open(file, 'r');
  try {
    const buf = Buffer.alloc(TAR_BLOCK);
    const { bytesRead } = await fh.read(buf, 0, TAR_BLOCK, 0);
    return buf.subarray(0, bytesRead);
  } finally {
    await fh.close();
  }
}

/** Checks every entry of the archive, then unpacks it into `dest` (which must not exist). */
export async function unpackBundle(file: string, dest: string, maxBytes: number): Promise<Manifest> {
  const why = whyNotBundle(await readHead(file));
  if (why) throw new DeviceError(`not an app bundle: ${why}`);
  let count = 0;
  let total = 0;
  let problem: string | undefined;
  try {
    await tar.t({
      file,
      strict: true,
      onReadEntry: (e) => {
        count++;
        total += e.size ?? 0;
        const p = e.path;
        if (problem) return;
        if (e.type !== 'File' && e.type !== 'Directory') problem = `${p}: only files and directories allowed (${e.type})`;
        else if (path.posix.isAbsolute(p) || p.split('/').includes('..')) problem = `${p}: path outside the bundle`;
        else if (count > MAX_FILES) problem = `more than ${MAX_FILES} entries`;
        else if (total > maxBytes) problem = `unpacks to more than ${maxBytes} bytes`;
      },
    });
  } catch (e) {
    throw new DeviceError(`not an app bundle: ${tarFailureInWords(e)}`);
  }
  if (problem) throw new DeviceError(`bad app bundle: ${problem}`);
  await fs.mkdir(dest, { recursive: false });
  await tar.x({ file, cwd: dest, strict: true, preservePaths: false, noChmod: true });
  let raw: unknown;
  try {
    raw = JSON.parse(await fs.readFile(path.join(dest, 'manifest.json'), 'utf8'));
  } catch {
    throw new DeviceError('bad app bundle: no readable manifest.json');
  }
  const m = decodeValue(Manifest, raw, 'manifest.json');
  if (!m.ok) throw new DeviceError(`bad app bundle: ${m.error}`);
  return m.value;
}

/** Builds a bundle from in-memory files, e.g. for tests, the demo fleet, or a release script. */
export async function createBundle(
  manifest: { name: string; version: string; modules?: string[] },
  files: Record<string, string | Uint8Array>,
): Promise<Buffer> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'mqb-bundle-'));
  try {
    const full: Manifest = { format: BUNDLE_FORMAT, modules: [], ...manifest };
    await fs.writeFile(path.join(dir, 'manifest.json'), JSON.stringify(full, null, 2));
    for (const [name, content] of Object.entries(files)) {
      await fs.mkdir(path.dirname(path.join(dir, name)), { recursive: true });
      await fs.writeFile(path.join(dir, name), content);
    }
    const out = path.join(dir, '..', `${path.basename(dir)}.tar`);
    await tar.c({ file: out, cwd: dir, portable: true }, ['manifest.json', ...Object.keys(files)]);
    try {
      return await fs.readFile(out);
    } finally {
      await fs.rm(out, { force: true });
    }
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
}
