// Web mode: a download finished in the host is pulled in bounded chunks (xferRead) and handed
// to the browser as a file download (a blob URL on a temporary link; the CSP allows it because
// it is a download, not a navigation or a resource load).
import { STAGE_CHUNK } from '../../../../protocol/src';
import type { BridgeClient } from '../../bridge/client';
import { fromBase64 } from './base64';

export async function saveToBrowser(bridge: BridgeClient, transfer: string, r: { size: number; name: string; mime: string }): Promise<void> {
  const parts: Uint8Array<ArrayBuffer>[] = [];
  for (let offset = 0; offset < r.size; offset += STAGE_CHUNK) {
    const { data } = await bridge.call('xferRead', { transfer, offset, length: Math.min(STAGE_CHUNK, r.size - offset) });
    parts.push(fromBase64(data));
  }
  const url = URL.createObjectURL(new Blob(parts, { type: r.mime }));
  try {
    const a = document.createElement('a');
    a.href = url;
    a.download = r.name;
    a.style.display = 'none';
    document.body.append(a);
    a.click();
    a.remove();
  } finally {
    // The browser has taken the blob once click() returns; free it on the next turn.
    setTimeout(() => URL.revokeObjectURL(url), 0);
  }
}
