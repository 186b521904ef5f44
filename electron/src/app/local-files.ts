// The computer's side of desktop transfers: reading what the user chose in an open dialog (files,
// or a folder walked recursively) and writing a finished download. Bounded like the page's
// staging (MAX_STAGE_BYTES per file, MAX_UPLOAD_ITEMS files), symlinks are not followed.
import { lstat, mkdir, open, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { MAX_STAGE_BYTES, MAX_UPLOAD_ITEMS } from '../../../protocol/src';
import { HostError } from './errors';
import { MAX_STAGED_TOTAL } from './transfer-stages';

export interface LocalFile {
  /** Relative path with `/` separators, starting with the chosen file's or folder's name. */
  rel: string;
  abs: string;
}

/** The files to upload for the chosen paths; a folder contributes its whole tree. */
export async function collectLocal(chosen: string[]): Promise<{ files: LocalFile[]; dirs: string[] }> {
  const files: LocalFile[] = [];
  const dirs: string[] = [];
  let total = 0;
  const walk = async (abs: string, rel: string) => {
    const st = await lstat(abs);
    if (st.isDirectory()) {
      dirs.push(rel);
      for (const name of (await readdir(abs)).sort()) await walk(path.join(abs, name), `${rel}/${name}`);
    } else if (st.isFile()) {
      if (st.size > MAX_STAGE_BYTES) throw new HostError('invalid-argument', `${rel}: ${st.size} bytes is more than the ${MAX_STAGE_BYTES} a single upload may have`);
      total += st.size;
      // Chosen files are read into memory like staged ones, under the same overall bound.
      if (total > MAX_STAGED_TOTAL) throw new HostError('invalid-argument', `the chosen files hold more than ${MAX_STAGED_TOTAL} bytes; upload fewer at once`);
      files.push({ rel, abs });
    }
    if (files.length + dirs.length > MAX_UPLOAD_ITEMS) throw new HostError('invalid-argument', `more than ${MAX_UPLOAD_ITEMS} files and folders in one upload`);
  };
  for (const c of chosen) await walk(c, path.basename(c));
  return { files, dirs };
}

export const readLocal = (abs: string): Promise<Uint8Array> => readFile(abs);

/**
 * Reads one file the user dropped or picked, by its path: absolute, a regular file (checked on
 * the open handle, so a swap after the check reads nothing else), at most MAX_STAGE_BYTES.
 */
export async function readChosenFile(abs: string): Promise<{ name: string; data: Uint8Array }> {
  if (!path.isAbsolute(abs) || abs.includes('\0')) throw new HostError('invalid-argument', 'not an absolute file path');
  const name = path.basename(abs);
  const fh = await open(abs, 'r').catch((e: NodeJS.ErrnoException) => {
    throw new HostError('not-found', `${name}: ${e.code === 'ENOENT' ? 'no such file' : e.code === 'EACCES' ? 'permission denied' : e.message}`);
  });
  try {
    const st = await fh.stat();
    if (!st.isFile()) throw new HostError('invalid-argument', `${name} is not a regular file`);
    if (st.size > MAX_STAGE_BYTES) throw new HostError('invalid-argument', `${name}: ${st.size} bytes is more than the ${MAX_STAGE_BYTES} a single upload may have`);
    const data = new Uint8Array(st.size);
    let got = 0;
    while (got < st.size) {
      const { bytesRead } = await fh.read(data, got, st.size - got, got);
      if (bytesRead === 0) throw new HostError('invalid-argument', `${name} shrank while it was read`);
      got += bytesRead;
    }
    return { name, data };
  } finally {
    await fh.close();
  }
}

/** Writes beside the destination and renames, so a failed write never leaves half a file. */
export async function writeLocalAtomic(file: string, data: Uint8Array): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.part`;
  try {
    await writeFile(tmp, data);
    await rename(tmp, file);
  } catch (e) {
    await rm(tmp, { force: true });
    throw e;
  }
}
