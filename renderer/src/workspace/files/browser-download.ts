// Web mode: a download finished in the host is pulled in bounded chunks (xferRead) and handed
// to the browser as a file download.
import { STAGE_CHUNK } from '../../../../protocol/src';
import type { BridgeClient } from '../../bridge/client';
import { downloadBlob } from '../../fleet/download';
import { fromBase64 } from './base64';

export async function saveToBrowser(bridge: BridgeClient, transfer: string, r: { size: number; name: string; mime: string }): Promise<void> {
  const parts: Uint8Array<ArrayBuffer>[] = [];
  for (let offset = 0; offset < r.size; offset += STAGE_CHUNK) {
    const { data } = await bridge.call('xferRead', { transfer, offset, length: Math.min(STAGE_CHUNK, r.size - offset) });
    parts.push(fromBase64(data));
  }
  downloadBlob(r.name, r.mime, parts);
}
