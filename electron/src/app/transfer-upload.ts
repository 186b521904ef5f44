// One file upload with this guarantee: a failed or cancelled upload leaves the
// previous file intact.
// - Our runtime: `put` carries size and SHA-256 and the device writes a temporary file, renaming
//   it over the real name only when both match (docs/protocol.md, "Verified, atomic put").
// - Original boards write a put in place and check nothing. So the host uploads to a sibling
//   `<name>.mqbpart`, the engine reads its SHA-256 back, and only then is it renamed over the
//   real name. MicroPython's rename replaces the target on LittleFS; on FAT it refuses, and the
//   old file is removed first — the one moment the name is briefly absent, but never partial.
//   A failed upload removes the part file (best effort: the board may be gone).
import { createHash } from 'node:crypto';
import { dirname } from 'node:path/posix';
import type { Engine, Progress } from '../engine/types';

export interface UploadOptions {
  signal: AbortSignal;
  onProgress: (p: Progress) => void;
}

const PART_SUFFIX = '.mqbpart';

/** Uploads `data` to `path`, creating parent folders; resolves with its SHA-256. */
export async function uploadFile(engine: Engine, prefix: string, path: string, data: Uint8Array, o: UploadOptions): Promise<string> {
  const sha256 = createHash('sha256').update(data).digest('hex');
  const parent = dirname(path);
  if (parent !== '/' && parent !== '.') await engine.mkdir(prefix, parent, { parents: true, signal: o.signal });
  const native = engine.device(prefix)?.kind === 'mqboard';
  if (native) {
    await engine.put(prefix, path, data, { signal: o.signal, onProgress: o.onProgress, expectSha256: sha256 });
    return sha256;
  }
  const part = path + PART_SUFFIX;
  try {
    await engine.put(prefix, part, data, { signal: o.signal, onProgress: o.onProgress, expectSha256: sha256 });
    try {
      await engine.mv(prefix, part, path, { signal: o.signal });
    } catch {
      await engine.rm(prefix, path, { signal: o.signal }).catch(() => undefined);
      await engine.mv(prefix, part, path, { signal: o.signal });
    }
  } catch (e) {
    await engine.rm(prefix, part, { timeoutMs: 10_000 }).catch(() => undefined);
    throw e;
  }
  return sha256;
}
