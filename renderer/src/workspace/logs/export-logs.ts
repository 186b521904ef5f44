// Export of a log view: the host writes the file (desktop: where the save dialog says) or, in
// web mode, returns the text, which the page offers as a download.
import type { LogFilter } from '../../../../protocol/src/bridge-logs';
import type { BridgeClient } from '../../bridge/client';

const lines = (n: number) => `${n.toLocaleString()} line${n === 1 ? '' : 's'}`;

export async function exportLogs(bridge: BridgeClient, prefix: string | undefined, filter: LogFilter): Promise<string | null> {
  const r = await bridge.call('exportLogs', { ...(prefix ? { prefix } : {}), filter });
  switch (r.kind) {
    case 'cancelled':
      return null;
    case 'saved':
      return `Exported ${lines(r.lines)} to ${r.path}`;
    case 'download': {
      const url = URL.createObjectURL(new Blob([r.text], { type: 'text/plain;charset=utf-8' }));
      try {
        const a = document.createElement('a');
        a.href = url;
        a.download = r.filename;
        document.body.append(a);
        a.click();
        a.remove();
      } finally {
        // The click has started the download synchronously; the URL is no longer needed.
        setTimeout(() => URL.revokeObjectURL(url), 0);
      }
      return `Exported ${lines(r.lines)} to ${r.filename}`;
    }
  }
}
