// Sends a local file (a File from a drop or a picker) to the host's staging area in bounded
// base64 chunks, in order; the host then uploads it or flashes it by stage id.
import { STAGE_CHUNK } from '../../../../protocol/src';
import type { BridgeClient } from '../../bridge/client';
import { toBase64 } from './base64';

export async function stageBlob(bridge: BridgeClient, blob: Blob, name: string, signal?: AbortSignal): Promise<string> {
  const { stage } = await bridge.call('xferStage', { size: blob.size, name: name.slice(0, 255) || 'file' }, { signal });
  try {
    for (let offset = 0; offset < blob.size; offset += STAGE_CHUNK) {
      const bytes = new Uint8Array(await blob.slice(offset, offset + STAGE_CHUNK).arrayBuffer());
      await bridge.call('xferStageChunk', { stage, offset, data: toBase64(bytes) }, { signal });
    }
  } catch (e) {
    await bridge.call('xferUnstage', { stage }).catch(() => undefined);
    throw e;
  }
  return stage;
}
