// Bridge handlers for log history and export (protocol/src/bridge-logs.ts). Queries run in the
// store (filter and search host-side); export writes where the desktop app's save dialog says,
// or hands web mode the text to download.
import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import type { Handlers } from './bridge-host';
import { HostError } from './errors';
import type { HostDialogs } from './host-dialogs';
import { exportFileName, formatExportLine } from './log-export';
import type { LogStore } from './log-store';

/** Web mode sends the export in one reply; beyond this the user should use the desktop app. */
const MAX_DOWNLOAD_CHARS = 64 * 1024 * 1024;

export function createLogHandlers(store: LogStore, dialogs: Pick<HostDialogs, 'save'> | undefined): Pick<Handlers, 'queryLogs' | 'exportLogs'> {
  return {
    queryLogs: async ({ prefix, filter, before, limit, since, until }) => store.query({ prefix, filter, before, limit, since, until }),
    exportLogs: async ({ prefix, filter, since, until }, ctx) => {
      const filename = exportFileName(prefix, new Date());
      if (dialogs) {
        const file = await dialogs.save({ title: 'Export logs', defaultName: filename });
        if (file === null) return { kind: 'cancelled' };
        const out = createWriteStream(file, { mode: 0o600 });
        let lines = 0;
        try {
          await store.each({ prefix, filter, since, until }, async (r) => {
            ctx.signal.throwIfAborted();
            lines++;
            // Backpressure: a large export streams to disk instead of piling up in memory.
            if (!out.write(formatExportLine(r, prefix === undefined) + '\n')) await once(out, 'drain');
          });
        } finally {
          out.end();
          await once(out, 'close');
        }
        return { kind: 'saved', path: file, lines };
      }
      const parts: string[] = [];
      let size = 0;
      await store.each({ prefix, filter, since, until }, (r) => {
        const l = formatExportLine(r, prefix === undefined) + '\n';
        size += l.length;
        parts.push(l);
      });
      if (size > MAX_DOWNLOAD_CHARS) throw new HostError('invalid-argument', `the export is ${Math.round(size / 1048576)} MB; narrow the filter (web mode downloads at most 64 MB)`);
      return { kind: 'download', filename, text: parts.join(''), lines: parts.length };
    },
  };
}
