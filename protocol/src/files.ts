// Native file commands (docs/protocol.md, "File commands"). Each is one message: the path in
// the topic tail, options as JSON in the body (may be empty); the reply is JSON on reply/out,
// streamed with sequence numbers when it does not fit one message.
import { z } from 'zod';
import { utf8 } from './bytes';
import { decodeJson } from './json';
import { FILE_REPLY_JSON, LS_REPLY_JSON, OPTIONS_JSON } from './limits';
import type { Decoded } from './result';

export const EntryType = z.enum(['file', 'dir', 'link', 'other']);
export type EntryType = z.infer<typeof EntryType>;

/** A device path; the file command replies' caps (limits.ts) count on this bound. */
const DevicePath = z.string().max(4096);

export const FileEntry = z.object({
  /** Name within the listed directory; with `recursive`, the path relative to it. */
  name: DevicePath,
  type: EntryType,
  /** Absent when the device cannot tell (some MicroPython ports return no size). */
  size: z.number().int().nonnegative().optional(),
  /** Modification time, ms since the epoch, when known. */
  mtime: z.number().nonnegative().optional(),
});
export type FileEntry = z.infer<typeof FileEntry>;

export const LsOptions = z.object({ recursive: z.boolean().optional() }).strict();
export const LsReply = z.object({ path: DevicePath, entries: z.array(FileEntry) });
export type LsReply = z.infer<typeof LsReply>;

const ENTRY_TYPES: ReadonlySet<unknown> = new Set(EntryType.options);
const isDevicePath = (v: unknown): v is string => typeof v === 'string' && v.length <= 4096;
const isOptionalCount = (v: unknown) => v === undefined || (Number.isSafeInteger(v) && (v as number) >= 0);
const isOptionalTime = (v: unknown) => v === undefined || (typeof v === 'number' && Number.isFinite(v) && v >= 0);

/**
 * True only for a parsed `ls` reply that `LsReply` would return unchanged: every field as the
 * schema says and no key it would strip (a test holds the two to that). Listings are the one
 * large JSON the host takes, and the schema's copy of thousands of entries was a third of the
 * time of decoding one at its cap (`npm run bench:fuzz`); any other reply goes through it.
 */
export function isExactLsReply(v: unknown): v is LsReply {
  if (typeof v !== 'object' || v === null) return false;
  const r = v as Record<string, unknown>;
  if (Object.keys(r).length !== 2 || !isDevicePath(r.path) || !Array.isArray(r.entries)) return false;
  for (const e of r.entries as unknown[]) {
    if (typeof e !== 'object' || e === null || Array.isArray(e)) return false;
    const f = e as Record<string, unknown>;
    let known = 2;
    if (f.size !== undefined) known++;
    if (f.mtime !== undefined) known++;
    if (Object.keys(f).length !== known || !isDevicePath(f.name) || !ENTRY_TYPES.has(f.type)) return false;
    if (!isOptionalCount(f.size) || !isOptionalTime(f.mtime)) return false;
  }
  return true;
}

export const StatReply = FileEntry.extend({ path: DevicePath });
export type StatReply = z.infer<typeof StatReply>;

export const ShaReply = z.object({ path: DevicePath, sha256: z.string().regex(/^[0-9a-f]{64}$/), size: z.number().int().nonnegative() });
export type ShaReply = z.infer<typeof ShaReply>;

export const RmOptions = z.object({ recursive: z.boolean().optional() }).strict();
export const MkdirOptions = z.object({ parents: z.boolean().optional() }).strict();
export const RmdirOptions = z.object({ recursive: z.boolean().optional() }).strict();
export const MvOptions = z.object({ to: z.string().min(1).max(4096), overwrite: z.boolean().optional() }).strict();

export const DoneReply = z.object({ ok: z.literal(true), path: DevicePath });
export type DoneReply = z.infer<typeof DoneReply>;

export const ResetMode = z.enum(['normal', 'safe', 'soft', 'hard']);
export type ResetMode = z.infer<typeof ResetMode>;
export const ResetOptions = z.object({ mode: ResetMode }).strict();
export type ResetOptions = z.infer<typeof ResetOptions>;

/** Option and reply schemas per file command, for the one dispatch table on each side. */
export const FileCommandSchemas = {
  ls: { options: LsOptions, reply: LsReply },
  stat: { options: z.object({}).strict(), reply: StatReply },
  sha: { options: z.object({}).strict(), reply: ShaReply },
  rm: { options: RmOptions, reply: DoneReply },
  mkdir: { options: MkdirOptions, reply: DoneReply },
  rmdir: { options: RmdirOptions, reply: DoneReply },
  mv: { options: MvOptions, reply: DoneReply },
} as const;
export type FileCommand = keyof typeof FileCommandSchemas;
export type FileOptions<C extends FileCommand> = z.infer<(typeof FileCommandSchemas)[C]['options']>;
export type FileReply<C extends FileCommand> = z.infer<(typeof FileCommandSchemas)[C]['reply']>;

/** Decodes a file command's options; an empty body means none. Over `OPTIONS_JSON` is refused unparsed. */
export function decodeFileOptions<C extends FileCommand>(cmd: C, body: Uint8Array): Decoded<FileOptions<C>> {
  const schema = FileCommandSchemas[cmd].options as unknown as z.ZodType<FileOptions<C>>;
  return decodeJson(schema, body.length === 0 ? utf8('{}') : body, `${cmd} options`, OPTIONS_JSON);
}

/** Decodes a `reset` command's options; an empty body means a soft reset. Over `OPTIONS_JSON` is refused unparsed. */
export function decodeResetOptions(body: Uint8Array): Decoded<ResetOptions> {
  return decodeJson(ResetOptions, body.length === 0 ? utf8('{"mode":"soft"}') : body, 'reset options', OPTIONS_JSON);
}

/**
 * Decodes a file command's reassembled reply. Over its cap (`LS_REPLY_JSON` for `ls`,
 * `FILE_REPLY_JSON` for the others) is refused unparsed.
 */
export function decodeFileReply<C extends FileCommand>(cmd: C, reply: Uint8Array): Decoded<FileReply<C>> {
  const schema = FileCommandSchemas[cmd].reply as unknown as z.ZodType<FileReply<C>>;
  if (cmd === 'ls') return decodeJson(schema, reply, 'ls reply', LS_REPLY_JSON, isExactLsReply as (v: unknown) => v is FileReply<C>);
  return decodeJson(schema, reply, `${cmd} reply`, FILE_REPLY_JSON);
}
