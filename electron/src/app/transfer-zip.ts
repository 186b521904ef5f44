// A device folder downloaded as one zip: list it recursively, fetch every file through
// the engine (one at a time: a board serves one stream at a time), and pack them with fflate.
// Empty folders become directory entries so the tree comes back as it was.
import { zipSync, type Zippable } from 'fflate';
import type { FileEntry } from '../../../protocol/src';
import type { Engine } from '../engine/types';
import { HostError } from './errors';

/**
 * Every entry under `dir`, names relative to it. One recursive listing when the tree fits in a
 * reply; a tree too large for one (protocol/src/limits.ts) is listed a folder at a time.
 */
async function listTree(engine: Engine, prefix: string, dir: string, signal: AbortSignal): Promise<FileEntry[]> {
  try {
    return await engine.ls(prefix, dir, { recursive: true, signal });
  } catch (e) {
    if (!(e instanceof Error && /ls reply too large/.test(e.message))) throw e;
  }
  const base = dir.endsWith('/') ? dir : `${dir}/`;
  const all: FileEntry[] = [];
  const walk = async (rel: string): Promise<void> => {
    for (const e of await engine.ls(prefix, rel ? base + rel : dir, { signal })) {
      const name = rel ? `${rel}/${e.name}` : e.name;
      all.push({ ...e, name });
      if (e.type === 'dir') await walk(name);
    }
  };
  await walk('');
  return all;
}

/** Unpacked bytes a folder download may gather in the host. */
export const MAX_ZIP_INPUT = 128 * 1024 * 1024;

export interface ZipOptions {
  signal: AbortSignal;
  /** The sum of the listed file sizes, once known (0 for files the device gives no size for). */
  onTotal: (bytes: number) => void;
  onProgress: (bytesDone: number) => void;
}

export async function downloadFolderZip(engine: Engine, prefix: string, dir: string, o: ZipOptions): Promise<Uint8Array> {
  const entries = await listTree(engine, prefix, dir, o.signal);
  const files = entries.filter((e) => e.type === 'file');
  const total = files.reduce((n, e) => n + (e.size ?? 0), 0);
  if (total > MAX_ZIP_INPUT) throw new HostError('invalid-argument', `${dir} holds ${total} bytes; a zip download takes at most ${MAX_ZIP_INPUT}`);
  o.onTotal(total);
  const base = dir.endsWith('/') ? dir : `${dir}/`;
  const tree: Zippable = {};
  // fflate writes an object value as a directory entry and adds the slash itself.
  for (const e of entries) if (e.type === 'dir') tree[e.name.replace(/\/+$/, '')] = {};
  let done = 0;
  for (const f of files) {
    const data = await engine.get(prefix, base + f.name, { signal: o.signal, onProgress: (p) => o.onProgress(done + p.bytesDone) });
    done += data.length;
    o.onProgress(done);
    tree[f.name] = data;
  }
  return zipSync(tree, { level: 6 });
}
