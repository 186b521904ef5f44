// `put`: a stream of chunks with the path (and optionally `?sha256=<hex>&size=<n>`) as tail.
// Unlike the original, which writes in place, the data only replaces the real file once it is
// complete and verified, so a broken transfer never leaves a half file under the real name.
// The expectations may come on the first message's tail, on the last one's, or both: a host
// that hashes while it sends only knows the SHA-256 when it sends the last chunk.
import fs from 'node:fs/promises';
import path from 'node:path';
import { decodePutTail, type Frame } from '../../../protocol/src';
import { createAtomicWriter, verify } from '../atomic-file';
import { DeviceError, deviceFsError, ProtocolError } from '../errors';
import { resolveDevicePath, type Jail } from '../jail';
import type { InboundResult, Upload, Uploads } from '../inbound';

export async function handlePut(
  env: { jail: Jail; uploads: Uploads; tmpDir: string },
  id: string,
  tail: string,
  frame: Frame,
): Promise<InboundResult> {
  return env.uploads.handle(id, tail, frame, () => openPut(env.jail, env.tmpDir, id, tail));
}

async function openPut(jail: Jail, tmpDir: string, id: string, tail: string): Promise<Upload> {
  const target = decodePutTail(tail);
  if (target.path === '') throw new DeviceError('put needs a file path');
  const dest = await resolveDevicePath(jail, target.path);
  if (dest.isRoot) throw new DeviceError('cannot put to /');
  // Fail at the first chunk, not the last, when the directory is missing or the name is a dir.
  await checkWritable(dest.host, dest.device);
  const writer = await createAtomicWriter(tmpDir, `put-${id}`);
  return {
    target: dest.host,
    write: (data) =>
      writer.write(data).catch((e: unknown) => {
        throw deviceFsError(e, dest.device);
      }),
    async finish(lastTail) {
      try {
        const last = decodePutTail(lastTail);
        if (last.path !== target.path) throw new ProtocolError(`the last message names another path: ${last.path}`);
        // Each expectation given must hold: one on the first tail and another on the last can
        // only both hold if they agree.
        verify(writer, target);
        verify(writer, last);
        // Re-check at commit time: the directory may have been swapped for a symlink meanwhile.
        const again = await resolveDevicePath(jail, target.path);
        await checkWritable(again.host, again.device);
        await writer.commit(again.host).catch((e: unknown) => {
          throw deviceFsError(e, again.device);
        });
        return 'OK';
      } finally {
        await writer.discard();
      }
    },
    abort: () => writer.discard(),
  };
}

async function checkWritable(host: string, device: string): Promise<void> {
  const dir = await fs.stat(path.dirname(host)).catch((e: unknown) => {
    throw deviceFsError(e, path.posix.dirname(device));
  });
  if (!dir.isDirectory()) throw new DeviceError(`ENOTDIR: not a directory: ${path.posix.dirname(device)}`);
  const existing = await fs.lstat(host).catch(() => undefined);
  if (existing?.isDirectory()) throw new DeviceError(`EISDIR: is a directory: ${device}`);
}
