// File operations: native JSON commands on our runtime, MicroPython snippets through eval on
// original boards (original-snippets.ts).
import {
  decodeFileReply,
  encodeJson,
  type FileCommand,
  type FileEntry,
  type FileOptions,
  type FileReply,
} from '../../../protocol/src';
import type { CommandContext, DeviceProfile } from './device-profile';
import { EngineError } from './errors';
import {
  parseLsResult,
  parseShaDirResult,
  parseShaResult,
  parseStatResult,
  snippets,
  type Snippet,
} from './original-snippets';
import { evalText, simpleCommand } from './transfer';

interface Common {
  timeoutMs: number;
  signal?: AbortSignal;
}

export async function nativeFileCommand<C extends FileCommand>(
  ctx: CommandContext,
  dev: DeviceProfile,
  cmd: C,
  path: string,
  options: FileOptions<C>,
  opts: Common,
): Promise<FileReply<C>> {
  const reply = await simpleCommand(ctx, dev.prefix, cmd, path, encodeJson(options), opts);
  const d = decodeFileReply(cmd, reply);
  if (!d.ok) throw new EngineError('protocol-error', `${cmd} on ${dev.prefix}: ${d.error}`);
  return d.value;
}

async function runSnippet(ctx: CommandContext, dev: DeviceProfile, sn: Snippet, opts: Common): Promise<string> {
  for (const code of sn.setup) await evalText(ctx, dev.prefix, code, opts);
  return evalText(ctx, dev.prefix, sn.expr, opts);
}

/** Parses a snippet's reply; a reply we cannot read is a protocol error, not a crash. */
function read<T>(dev: DeviceProfile, what: string, parse: () => T): T {
  try {
    return parse();
  } catch (e) {
    throw new EngineError('protocol-error', `${what} on ${dev.prefix}: ${(e as Error).message}`);
  }
}

const nativeHas = (dev: DeviceProfile, cmd: FileCommand) => dev.native && dev.commands.has(cmd);

export async function ls(ctx: CommandContext, dev: DeviceProfile, path: string, recursive: boolean, opts: Common): Promise<FileEntry[]> {
  if (nativeHas(dev, 'ls')) return (await nativeFileCommand(ctx, dev, 'ls', path, recursive ? { recursive } : {}, opts)).entries;
  const out = await runSnippet(ctx, dev, snippets.ls(path || '.', recursive), opts);
  return read(dev, 'ls', () => parseLsResult(out));
}

export async function stat(ctx: CommandContext, dev: DeviceProfile, path: string, opts: Common): Promise<FileEntry> {
  if (nativeHas(dev, 'stat')) {
    const r = await nativeFileCommand(ctx, dev, 'stat', path, {}, opts);
    const e: FileEntry = { name: r.name, type: r.type };
    if (r.size !== undefined) e.size = r.size;
    if (r.mtime !== undefined) e.mtime = r.mtime;
    return e;
  }
  const out = await runSnippet(ctx, dev, snippets.stat(path), opts);
  return read(dev, 'stat', () => parseStatResult(path, out));
}

export async function sha256(ctx: CommandContext, dev: DeviceProfile, path: string, opts: Common): Promise<string> {
  if (nativeHas(dev, 'sha')) return (await nativeFileCommand(ctx, dev, 'sha', path, {}, opts)).sha256;
  const out = await runSnippet(ctx, dev, snippets.sha256(path), opts);
  return read(dev, 'sha256', () => parseShaResult(out));
}

/** SHA-256 of each file directly in `dir` (name → hex); one round trip on original boards. */
export async function hashDir(ctx: CommandContext, dev: DeviceProfile, dir: string, opts: Common): Promise<Map<string, string>> {
  if (nativeHas(dev, 'sha') && nativeHas(dev, 'ls')) {
    const entries = await ls(ctx, dev, dir, false, opts);
    const base = dir.endsWith('/') ? dir : `${dir}/`;
    const out = new Map<string, string>();
    for (const e of entries) if (e.type === 'file') out.set(e.name, await sha256(ctx, dev, base + e.name, opts));
    return out;
  }
  const out = await runSnippet(ctx, dev, snippets.sha256Dir(dir), opts);
  return read(dev, 'sha256 listing', () => parseShaDirResult(out));
}

export async function rm(ctx: CommandContext, dev: DeviceProfile, path: string, recursive: boolean, opts: Common): Promise<void> {
  if (nativeHas(dev, 'rm')) await nativeFileCommand(ctx, dev, 'rm', path, recursive ? { recursive } : {}, opts);
  else await runSnippet(ctx, dev, snippets.rm(path, recursive), opts);
}

export async function mkdir(ctx: CommandContext, dev: DeviceProfile, path: string, parents: boolean, opts: Common): Promise<void> {
  if (nativeHas(dev, 'mkdir')) await nativeFileCommand(ctx, dev, 'mkdir', path, parents ? { parents } : {}, opts);
  else await runSnippet(ctx, dev, snippets.mkdir(path, parents), opts);
}

export async function rmdir(ctx: CommandContext, dev: DeviceProfile, path: string, recursive: boolean, opts: Common): Promise<void> {
  if (nativeHas(dev, 'rmdir')) await nativeFileCommand(ctx, dev, 'rmdir', path, recursive ? { recursive } : {}, opts);
  else await runSnippet(ctx, dev, snippets.rmdir(path, recursive), opts);
}

export async function mv(ctx: CommandContext, dev: DeviceProfile, from: string, to: string, opts: Common): Promise<void> {
  if (nativeHas(dev, 'mv')) await nativeFileCommand(ctx, dev, 'mv', from, { to }, opts);
  else await runSnippet(ctx, dev, snippets.mv(from, to), opts);
}
