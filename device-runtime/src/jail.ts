// The device's filesystem is a directory on the host: the device path `/a/b` is `<root>/a/b`.
// Nothing a command names may reach outside the root or into the runtime's private state
// (OTA slots, RTC memory, temp files), whatever the path says, wherever symlinks point, and
// whatever else a regular file is linked as.
import type { Stats } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { DeviceError } from './errors';

/** Runtime-private state lives here, below the root but unreachable through file commands. */
export const PRIVATE_DIR = '.mqboard';

export interface Jail {
  /** Host path of the root, symlinks resolved. */
  root: string;
  /** Host path of the private state directory. */
  privateDir: string;
  /** The filesystem the root is on (st_dev). */
  dev: number;
}

export interface ResolvedPath {
  /** Normalised device path, always absolute: `/a/b`, `/` for the root. */
  device: string;
  /** Host path (not symlink-resolved; operations on it act on a link itself where fs does). */
  host: string;
  isRoot: boolean;
}

export async function openJail(root: string): Promise<Jail> {
  await fs.mkdir(root, { recursive: true });
  const real = await fs.realpath(root);
  const privateDir = path.join(real, PRIVATE_DIR);
  await fs.mkdir(privateDir, { recursive: true });
  return { root: real, privateDir, dev: (await fs.stat(real)).dev };
}

/**
 * Refuses to read a file whose contents may live outside the root although its path does not:
 * a regular file with more than one hard link (the other name may be anywhere on the same
 * filesystem, e.g. a host file linked into the root), or a file on another filesystem than the
 * root (a mount inside it). Judge the stats of the opened file, so a swap after the check
 * cannot slip through.
 */
export function checkOwnFile(jail: Jail, st: Stats, device: string): void {
  if (st.isFile() && st.nlink > 1) throw new DeviceError(`refused: ${device} has ${st.nlink} hard links, so it may be a file outside the device root`);
  if (st.dev !== jail.dev) throw new DeviceError(`refused: ${device} is on another filesystem than the device root`);
}

/**
 * Maps a device path to the host path, refusing `..` segments, NUL bytes, the private
 * directory, and any path whose existing part resolves (through symlinks) outside the root.
 * Relative paths are taken from `/`, the board's working directory.
 *
 * The symlink check uses the realpath of the path itself when it exists, else of its nearest
 * existing ancestor, so a not-yet-existing file below a symlinked directory is judged by where
 * that directory really is. A path that names a dangling symlink is refused: following it
 * could create a file wherever it points.
 */
export async function resolveDevicePath(jail: Jail, devicePath: string): Promise<ResolvedPath> {
  if (devicePath.includes('\u0000')) throw new DeviceError('invalid path: contains NUL');
  if (devicePath.length > 4096) throw new DeviceError('invalid path: too long');
  const segments = devicePath.split('/').filter((s) => s !== '' && s !== '.');
  if (segments.includes('..')) throw new DeviceError(`path escapes the device root: ${devicePath}`);
  const device = '/' + segments.join('/');
  // Case-insensitive filesystems would otherwise let `/.MQBoard` through.
  if (segments.length > 0 && segments[0]!.toLowerCase() === PRIVATE_DIR) {
    throw new DeviceError(`path is reserved for the runtime: ${device}`);
  }
  const host = path.join(jail.root, ...segments);
  const real = await realpathOfExisting(host, device);
  if (!isInside(jail.root, real)) throw new DeviceError(`path escapes the device root: ${device}`);
  if (isInside(jail.privateDir, real)) throw new DeviceError(`path is reserved for the runtime: ${device}`);
  return { device, host, isRoot: segments.length === 0 };
}

export function isInside(dir: string, p: string): boolean {
  const rel = path.relative(dir, p);
  return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
}

async function realpathOfExisting(host: string, device: string): Promise<string> {
  let probe = host;
  const rest: string[] = [];
  for (;;) {
    try {
      await fs.lstat(probe);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT' && (e as NodeJS.ErrnoException).code !== 'ENOTDIR') throw e;
      const parent = path.dirname(probe);
      if (parent === probe) throw new DeviceError(`invalid path: ${device}`);
      rest.unshift(path.basename(probe));
      probe = parent;
      continue;
    }
    try {
      return path.join(await fs.realpath(probe), ...rest);
    } catch {
      throw new DeviceError(`path leads through a dangling symlink: ${device}`);
    }
  }
}
