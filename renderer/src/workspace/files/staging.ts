// Sends a local file (a File from a drop or a picker) to the host's staging area; the host then
// uploads it or flashes it by stage id. In the desktop app a File has a path and the host reads
// it from disk itself; otherwise the bytes go in large raw chunks (a binary WebSocket frame in
// web mode, structured clone over IPC), in order, never as base64.
import { STAGE_BINARY_CHUNK } from '../../../../protocol/src';
import type { BridgeClient } from '../../bridge/client';

export async function stageBlob(bridge: BridgeClient, blob: Blob, name: string, signal?: AbortSignal): Promise<string> {
  const onDisk = blob instanceof File ? bridge.pathForFile(blob) : '';
  if (onDisk) return (await bridge.call('xferStagePath', { path: onDisk }, { signal })).stage;
  const { stage } = await bridge.call('xferStage', { size: blob.size, name: name.slice(0, 255) || 'file' }, { signal });
  try {
    for (let offset = 0; offset < blob.size; offset += STAGE_BINARY_CHUNK) {
      const bytes = new Uint8Array(await blob.slice(offset, offset + STAGE_BINARY_CHUNK).arrayBuffer());
      await bridge.call('xferStageChunk', { stage, offset, data: bytes }, { signal });
    }
  } catch (e) {
    await bridge.call('xferUnstage', { stage }).catch(() => undefined);
    throw e;
  }
  return stage;
}
