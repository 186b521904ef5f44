// The preload (sandboxed, context-isolated): exposes exactly the bridge contract's operations
// as named functions on window.mqboard, plus cancel and the batched event stream. No generic
// send(channel, ...): the channel names come from the contract, one per operation, and the main
// process validates every argument again (the renderer is not trusted).
import { contextBridge, ipcRenderer, webUtils } from 'electron';
import { IPC_CANCEL, IPC_EVENTS, IPC_GRANT_PATH, OPERATION_NAMES, ipcChannel, type CallEnvelope, type OperationName, type PreloadApi } from '../../../protocol/src/bridge';

const operations = {} as Record<OperationName, (call: CallEnvelope) => Promise<unknown>>;
for (const name of OPERATION_NAMES) operations[name] = (call) => ipcRenderer.invoke(ipcChannel(name), call);

const api: PreloadApi = {
  ...operations,
  cancel: (id: string) => ipcRenderer.send(IPC_CANCEL, String(id)),
  onEvents(listener) {
    // The IpcRendererEvent (with its sender) never reaches the page.
    const wrapped = (_e: Electron.IpcRendererEvent, batch: unknown) => listener(batch);
    ipcRenderer.on(IPC_EVENTS, wrapped);
    return () => {
      ipcRenderer.removeListener(IPC_EVENTS, wrapped);
    };
  },
  pathForFile(file) {
    let p = '';
    try {
      // Only a real File the user dropped or picked has a path; anything else throws or gives ''.
      p = webUtils.getPathForFile(file as File);
    } catch {
      return '';
    }
    // Sent before the page can ask for it: IPC messages from one frame keep their order.
    if (p) ipcRenderer.send(IPC_GRANT_PATH, p);
    return p;
  },
};

contextBridge.exposeInMainWorld('mqboard', api);
