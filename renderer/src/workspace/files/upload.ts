// Uploads a local tree (dropped or picked) into a device folder: every file is staged in the host
// in bounded chunks, then one xferUpload queues them all; the host creates the folders. The
// transfers then show in the queue panel like any other.
import { MAX_UPLOAD_ITEMS } from '../../../../protocol/src';
import type { BridgeClient } from '../../bridge/client';
import type { LocalTree } from './dropped';
import { join } from './paths';
import { stageBlob } from './staging';

export async function uploadTree(bridge: BridgeClient, prefix: string, dir: string, tree: LocalTree, onStaged?: (done: number, total: number) => void): Promise<string[]> {
  if (tree.files.length + tree.dirs.length > MAX_UPLOAD_ITEMS) throw new Error(`At most ${MAX_UPLOAD_ITEMS} files and folders per upload.`);
  const items: { path: string; stage: string }[] = [];
  try {
    for (const f of tree.files) {
      items.push({ path: join(dir, f.rel), stage: await stageBlob(bridge, f.file, f.rel.split('/').pop() ?? f.rel) });
      onStaged?.(items.length, tree.files.length);
    }
  } catch (e) {
    await Promise.all(items.map((i) => bridge.call('xferUnstage', { stage: i.stage }).catch(() => undefined)));
    throw e;
  }
  const { transfers } = await bridge.call('xferUpload', { prefix, items, dirs: tree.dirs.map((d) => join(dir, d)) });
  return transfers;
}
