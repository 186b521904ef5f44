// Native file commands (protocol/src/files.ts): one message each, the path in the tail, JSON
// options in the body, a JSON reply. One handler per command behind one table.
import { createHash } from 'node:crypto';
import type { Stats } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import {
  decodeFileOptions,
  FileCommandSchemas,
  type EntryType,
  type FileCommand,
  type FileEntry,
  type FileOptions,
  type FileReply,
  MAX_LS_REPLY_BYTES,
} from '../../../protocol/src';
import { DeviceError, deviceFsError } from '../errors';
import { checkOwnFile, PRIVATE_DIR, resolveDevicePath, type Jail, type ResolvedPath } from '../jail';

/**
 * A listing stops here rather than building a reply the host refuses (protocol/src/limits.ts:
 * an ls reply holds at most 16,000 JSON values, five to an entry, and MAX_LS_REPLY_BYTES).
 */
export const MAX_LS_ENTRIES = 3_000;

const tooLarge = (device: string, what: string) => new DeviceError(`ls reply too large: ${device} holds ${what}; list its subdirectories instead`);

type Handler<C extends FileCommand> = (jail: Jail, p: ResolvedPath, o: FileOptions<C>) => Promise<FileReply<C>>;

const entryType = (s: Stats): EntryType =>
  s.isFile() ? 'file' : s.isDirectory() ? 'dir' : s.isSymbolicLink() ? 'link' : 'other';

const toEntry = (name: string, s: Stats): FileEntry => ({
  name,
  type: entryType(s),
  ...(s.isFile() ? { size: s.size } : {}),
  mtime: Math.floor(s.mtimeMs),
});

const done = (p: ResolvedPath) => ({ ok: true as const, path: p.device });

function refuseRoot(p: ResolvedPath, what: string): void {
  if (p.isRoot) throw new DeviceError(`cannot ${what} /`);
}

const handlers: { [C in FileCommand]: Handler<C> } = {
  async ls(jail, p, o) {
    const st = await fs.lstat(p.host);
    if (!st.isDirectory()) return { path: p.device, entries: [toEntry(path.posix.basename(p.device), st)] };
    const entries: FileEntry[] = [];
    const walk = async (hostDir: string, rel: string): Promise<void> => {
      const names = (await fs.readdir(hostDir)).sort();
      for (const name of names) {
        if (hostDir === jail.root && name === PRIVATE_DIR) continue;
        if (entries.length >= MAX_LS_ENTRIES) throw tooLarge(p.device, `more than ${MAX_LS_ENTRIES} entries`);
        const s = await fs.lstat(path.join(hostDir, name)).catch(() => undefined);
        if (!s) continue; // removed while listing
        const relName = rel ? `${rel}/${name}` : name;
        entries.push(toEntry(relName, s));
        // Symlinked directories are listed, not followed: they may lead out of the root.
        if (o.recursive && s.isDirectory()) await walk(path.join(hostDir, name), relName);
      }
    };
    await walk(p.host, '');
    const reply = { path: p.device, entries };
    // Long names can fill the reply's bytes before its entry count: the same answer, said here.
    const bytes = Buffer.byteLength(JSON.stringify(reply));
    if (bytes > MAX_LS_REPLY_BYTES) throw tooLarge(p.device, `${entries.length} entries, ${Math.ceil(bytes / 1024)} KiB of listing (at most ${MAX_LS_REPLY_BYTES / 1024} KiB)`);
    return reply;
  },
  async stat(_jail, p) {
    const s = await fs.lstat(p.host);
    return { path: p.device, ...toEntry(path.posix.basename(p.device) || '/', s) };
  },
  async sha(jail, p) {
    const s = await fs.stat(p.host);
    // Opening a FIFO would wait for a writer forever: look before opening, then judge the open file.
    if (!s.isFile()) throw new DeviceError(`not a regular file: ${p.device}`);
    const fh = await fs.open(p.host, 'r');
    try {
      const st = await fh.stat();
      if (!st.isFile()) throw new DeviceError(`not a regular file: ${p.device}`);
      checkOwnFile(jail, st, p.device);
      const hash = createHash('sha256');
      let size = 0;
      for await (const chunk of fh.createReadStream({ autoClose: false })) {
        hash.update(chunk as Buffer);
        size += (chunk as Buffer).length;
      }
      return { path: p.device, sha256: hash.digest('hex'), size };
    } finally {
      await fh.close();
    }
  },
  async rm(_jail, p, o) {
    refuseRoot(p, 'remove');
    const s = await fs.lstat(p.host);
    if (s.isDirectory() && !o.recursive) throw new DeviceError(`EISDIR: is a directory (use recursive): ${p.device}`);
    await fs.rm(p.host, { recursive: o.recursive === true });
    return done(p);
  },
  async mkdir(_jail, p, o) {
    if (p.isRoot && o.parents) return done(p);
    refuseRoot(p, 'create');
    await fs.mkdir(p.host, { recursive: o.parents === true });
    return done(p);
  },
  async rmdir(_jail, p, o) {
    refuseRoot(p, 'remove');
    const s = await fs.lstat(p.host);
    if (!s.isDirectory()) throw new DeviceError(`ENOTDIR: not a directory: ${p.device}`);
    if (o.recursive) await fs.rm(p.host, { recursive: true });
    else await fs.rmdir(p.host);
    return done(p);
  },
  async mv(jail, p, o) {
    refuseRoot(p, 'move');
    const to = await resolveDevicePath(jail, o.to);
    refuseRoot(to, 'move onto');
    await fs.lstat(p.host);
    if (!o.overwrite && (await fs.lstat(to.host).catch(() => undefined))) {
      throw new DeviceError(`EEXIST: file exists: ${to.device}`);
    }
    await fs.rename(p.host, to.host).catch((e: unknown) => {
      throw deviceFsError(e, to.device);
    });
    return done(to); // docs/protocol.md: mv replies the destination
  },
};

export const isFileCommand = (cmd: string): cmd is FileCommand => Object.hasOwn(FileCommandSchemas, cmd);

/** Runs one file command; the result is the JSON reply. Errors are DeviceErrors in device terms. */
export async function runFileCommand(jail: Jail, cmd: FileCommand, tail: string, body: Uint8Array): Promise<unknown> {
  // An empty body means "no options", as the original CLI would send for a plain command.
  const opts = decodeFileOptions(cmd, body);
  if (!opts.ok) throw new DeviceError(opts.error);
  const p = await resolveDevicePath(jail, tail === '' ? '/' : tail);
  const handler = handlers[cmd] as Handler<FileCommand>;
  try {
    return await handler(jail, p, opts.value);
  } catch (e) {
    throw deviceFsError(e, p.device);
  }
}
