// How envelopes reach the host: Electron's preload (window.mqboard) or the web-mode WebSocket.
// Both carry the same contract; nothing above this file knows which one is in use.
import type { CallEnvelope, OperationName, PreloadApi } from '../../../protocol/src';

export interface Transport {
  kind: 'ipc' | 'ws';
  invoke(op: OperationName, call: CallEnvelope): Promise<unknown>;
  cancel(id: string): void;
  /** Raw event batches, unparsed. Returns an unsubscribe function. */
  onEvents(listener: (batch: unknown) => void): () => void;
  /** Called when the host goes away (web mode: the server stopped). */
  onLost(listener: (why: string) => void): void;
  /** Desktop app: the path on disk of a dropped or picked File, '' when it has none. */
  pathForFile(file: File): string;
}

declare global {
  interface Window {
    readonly mqboard?: PreloadApi;
  }
}

export function ipcTransport(api: PreloadApi): Transport {
  return {
    kind: 'ipc',
    invoke: (op, call) => api[op](call),
    cancel: (id) => api.cancel(id),
    onEvents: (listener) => api.onEvents(listener),
    onLost: () => {},
    pathForFile: (file) => api.pathForFile?.(file) ?? '',
  };
}
