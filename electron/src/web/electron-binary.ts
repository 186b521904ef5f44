// Where the Electron binary is, without importing `electron` (this runs in plain Node): the
// npm package records the binary's name in path.txt after its postinstall download. Installs
// with ELECTRON_SKIP_BINARY_DOWNLOAD=1 have the package without a binary; where the download
// fails, npm drops the package altogether (electron is an optional dependency for that reason).
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

export function electronBinary(): { path: string } | { missing: string } {
  let dir: string;
  try {
    dir = path.dirname(createRequire(import.meta.url).resolve('electron/package.json'));
  } catch {
    return { missing: 'Electron is not installed: its binary could not be downloaded at install time' };
  }
  const pathFile = path.join(dir, 'path.txt');
  if (!existsSync(pathFile)) return { missing: 'the Electron binary was not downloaded (ELECTRON_SKIP_BINARY_DOWNLOAD)' };
  const bin = process.env.ELECTRON_OVERRIDE_DIST_PATH
    ? path.join(process.env.ELECTRON_OVERRIDE_DIST_PATH, readFileSync(pathFile, 'utf8'))
    : path.join(dir, 'dist', readFileSync(pathFile, 'utf8'));
  return existsSync(bin) ? { path: bin } : { missing: `the Electron binary is missing (${bin})` };
}
