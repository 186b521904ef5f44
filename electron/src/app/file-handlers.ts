// Bridge handlers for the file browser and OTA (protocol/src/bridge-files.ts). Arguments arrive
// parsed by the bridge host; these stay thin: the engine does file commands, the transfer queue
// runs every transfer, the stages hold bytes that came from the page.
import { createHash } from 'node:crypto';
import path from 'node:path/posix';
import { MAX_TEXT_BYTES } from '../../../protocol/src';
import type { Engine } from '../engine/types';
import type { Handlers } from './bridge-host';
import { HostError } from './errors';
import type { HostDialogs } from './host-dialogs';
import { collectLocal, readChosenFile, readLocal } from './local-files';
import { inspectImage } from './ota-image';
import type { TransferStages } from './transfer-stages';
import { uploadFile } from './transfer-upload';
import type { TransferQueue } from './transfers';

type FileOps =
  | 'fsList' | 'fsMkdir' | 'fsRename' | 'fsDelete' | 'fsReadText' | 'fsWriteText'
  | 'xferStage' | 'xferStageChunk' | 'xferStagePath' | 'xferUnstage' | 'xferUpload' | 'xferPickUpload' | 'xferDownload'
  | 'xferRead' | 'xferList' | 'xferCancel' | 'xferRetry' | 'xferDismiss'
  | 'otaInspect' | 'otaPick' | 'otaStart';

export interface FileHandlerDeps {
  engine: Engine;
  queue: TransferQueue;
  stages: TransferStages;
  /** Present in the desktop app only. */
  dialogs?: HostDialogs;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

export function createFileHandlers({ engine, queue, stages, dialogs }: FileHandlerDeps): Pick<Handlers, FileOps> {
  const known = (prefix: string) => {
    if (!engine.device(prefix)) throw new HostError('not-found', `no device ${prefix}`);
  };
  const needDialogs = (): HostDialogs => {
    if (!dialogs) throw new HostError('not-supported', 'system dialogs exist only in the desktop app; the page uses the browser’s file picker');
    return dialogs;
  };

  return {
    fsList: async ({ prefix, path: p }, ctx) => {
      known(prefix);
      return { path: p, entries: await engine.ls(prefix, p, { signal: ctx.signal }) };
    },
    fsMkdir: async ({ prefix, path: p }, ctx) => {
      known(prefix);
      await engine.mkdir(prefix, p, { signal: ctx.signal });
      return {};
    },
    fsRename: async ({ prefix, from, to }, ctx) => {
      known(prefix);
      await engine.mv(prefix, from, to, { signal: ctx.signal });
      return {};
    },
    fsDelete: async ({ prefix, path: p, dir, recursive }, ctx) => {
      known(prefix);
      if (p === '/') throw new HostError('invalid-argument', 'refusing to delete the root folder');
      if (dir) await engine.rmdir(prefix, p, { recursive, signal: ctx.signal });
      else await engine.rm(prefix, p, { signal: ctx.signal });
      return {};
    },
    fsReadText: async ({ prefix, path: p }, ctx) => {
      known(prefix);
      const st = await engine.stat(prefix, p, { signal: ctx.signal });
      if (st.type !== 'file') throw new HostError('invalid-argument', `${p} is not a file`);
      if (st.size !== undefined && st.size > MAX_TEXT_BYTES) throw new HostError('invalid-argument', `${p} has ${st.size} bytes; the editor opens at most ${MAX_TEXT_BYTES}`);
      const data = await engine.get(prefix, p, { signal: ctx.signal });
      if (data.length > MAX_TEXT_BYTES) throw new HostError('invalid-argument', `${p} has ${data.length} bytes; the editor opens at most ${MAX_TEXT_BYTES}`);
      let text: string;
      try {
        text = utf8.decode(data);
      } catch {
        throw new HostError('invalid-argument', `${p} is not UTF-8 text; download it instead`);
      }
      return { text, sha256: createHash('sha256').update(data).digest('hex'), size: data.length };
    },
    fsWriteText: async ({ prefix, path: p, text }, ctx) => {
      known(prefix);
      const data = new TextEncoder().encode(text);
      if (data.length > MAX_TEXT_BYTES) throw new HostError('invalid-argument', `the text has ${data.length} bytes; the editor saves at most ${MAX_TEXT_BYTES}`);
      const sha256 = await uploadFile(engine, prefix, p, data, { signal: ctx.signal, onProgress: () => {} });
      return { sha256, size: data.length };
    },

    xferStage: async ({ size, name }) => ({ stage: stages.create(size, name) }),
    xferStageChunk: async ({ stage, offset, data }) => ({ received: stages.append(stage, offset, data) }),
    xferStagePath: async ({ path: file }, ctx) => {
      // The page names the file, so only a path the preload saw on a File the user gave it.
      if (!ctx.client.granted(file)) throw new HostError('bad-request', 'that file was not dropped or picked in this window');
      const { name, data } = await readChosenFile(file);
      const stage = stages.create(data.length, name);
      if (data.length) stages.append(stage, 0, data);
      return { stage, name, size: data.length };
    },
    xferUnstage: async ({ stage }) => {
      stages.drop(stage);
      return {};
    },
    xferUpload: async ({ prefix, items, dirs }, ctx) => {
      known(prefix);
      // Empty folders of a dropped tree; folders that hold files are created by their uploads.
      for (const d of [...dirs].sort()) await engine.mkdir(prefix, d, { parents: true, signal: ctx.signal });
      const files = items.map((i) => ({ path: i.path, data: stages.take(i.stage).data }));
      return { transfers: files.map((f) => queue.enqueue({ kind: 'upload', prefix, path: f.path, data: f.data })) };
    },
    xferPickUpload: async ({ prefix, dir, folder }, ctx) => {
      known(prefix);
      const chosen = await needDialogs().open({ title: folder ? `Upload a folder to ${prefix}:${dir}` : `Upload files to ${prefix}:${dir}`, folder, multiple: !folder });
      if (!chosen?.length) return { transfers: [] };
      const local = await collectLocal(chosen);
      const into = (rel: string) => path.join(dir, rel);
      for (const d of local.dirs) await engine.mkdir(prefix, into(d), { parents: true, signal: ctx.signal });
      const ids: string[] = [];
      for (const f of local.files) ids.push(queue.enqueue({ kind: 'upload', prefix, path: into(f.rel), data: await readLocal(f.abs) }));
      return { transfers: ids };
    },
    xferDownload: async ({ prefix, path: p, folder, dest }) => {
      known(prefix);
      if (dest === 'memory') return { transfer: queue.enqueue({ kind: 'download', prefix, path: p, folder, dest: { to: 'memory' } }) };
      const base = path.basename(p) || 'root';
      const file = await needDialogs().save({ title: `Save ${prefix}:${p}`, defaultName: folder ? `${base}.zip` : base });
      if (!file) return { transfer: null };
      return { transfer: queue.enqueue({ kind: 'download', prefix, path: p, folder, dest: { to: 'file', file } }) };
    },
    xferRead: async ({ transfer, offset, length }) => {
      const r = queue.read(transfer, offset, length);
      return { data: Buffer.from(r.data.buffer, r.data.byteOffset, r.data.byteLength).toString('base64'), total: r.total };
    },
    xferList: async () => ({ transfers: queue.list() }),
    xferCancel: async ({ transfer }) => {
      queue.cancel(transfer);
      return {};
    },
    xferRetry: async ({ transfer }) => ({ transfer: queue.retry(transfer) }),
    xferDismiss: async ({ transfer }) => {
      queue.dismiss(transfer);
      return {};
    },

    otaInspect: async ({ prefix, stage }) => {
      known(prefix);
      const s = stages.peek(stage);
      return inspectImage(stage, s.name, s.data, engine.device(prefix));
    },
    otaPick: async ({ prefix }) => {
      known(prefix);
      const chosen = await needDialogs().open({ title: `Firmware image for ${prefix}`, folder: false, multiple: false });
      const file = chosen?.[0];
      if (!file) return null;
      const data = await readLocal(file);
      const stage = stages.create(data.length, path.basename(file.replaceAll('\\', '/')));
      if (data.length) stages.append(stage, 0, data);
      const s = stages.peek(stage);
      return inspectImage(stage, s.name, s.data, engine.device(prefix));
    },
    otaStart: async ({ prefix, stage }) => {
      known(prefix);
      const s = stages.peek(stage);
      const info = await inspectImage(stage, s.name, s.data, engine.device(prefix));
      if (info.refused) throw new HostError('invalid-argument', `${s.name}: ${info.refused}`);
      stages.take(stage);
      return { transfer: queue.enqueue({ kind: 'ota', prefix, name: s.name, image: s.data, sha256: info.sha256 }) };
    },
  };
}
