// The Electron transport of the bridge: one ipcMain handler per contract operation. Every call
// checks its sender (our window's main frame, showing our page) before the shared bridge host
// parses the arguments with the contract's schemas.
import { ipcMain, type IpcMainEvent, type IpcMainInvokeEvent, type WebContents } from 'electron';
import { IPC_CANCEL, IPC_EVENTS, IPC_GRANT_PATH, OPERATION_NAMES, ipcChannel, type CallReply } from '../../../protocol/src';
import type { BridgeClient, BridgeHost } from '../app/bridge-host';

export function serveIpc(bridge: BridgeHost, isAppUrl: (url: string) => boolean): void {
  const clients = new Map<number, BridgeClient>();

  const clientFor = (wc: WebContents): BridgeClient => {
    let c = clients.get(wc.id);
    if (!c) {
      c = bridge.connect((batch) => {
        if (!wc.isDestroyed()) wc.send(IPC_EVENTS, batch);
      });
      clients.set(wc.id, c);
      const forget = () => {
        clients.get(wc.id)?.close();
        clients.delete(wc.id);
      };
      wc.once('destroyed', forget);
      // A reload is a new renderer: drop its subscriptions and in-flight calls.
      wc.on('did-start-navigation', (details) => {
        if (details.isMainFrame && !details.isSameDocument) forget();
      });
    }
    return c;
  };

  const trusted = (e: IpcMainEvent | IpcMainInvokeEvent): boolean => {
    // Only our page's top frame may call: not an iframe, not a page it was navigated to.
    const frame = e.senderFrame;
    const main = e.sender.mainFrame;
    return frame !== null && frame.processId === main.processId && frame.routingId === main.routingId && isAppUrl(frame.url);
  };

  for (const op of OPERATION_NAMES) {
    ipcMain.handle(ipcChannel(op), async (e, raw: unknown): Promise<CallReply> => {
      if (!trusted(e)) return { ok: false, error: { code: 'bad-request', message: 'untrusted sender' } };
      const { reply } = await clientFor(e.sender).call(op, raw);
      return reply;
    });
  }
  ipcMain.on(IPC_CANCEL, (e, id: unknown) => {
    if (trusted(e)) clients.get(e.sender.id)?.cancel(id);
  });
  // Sent by the preload only, for a File the user dropped or picked (webUtils.getPathForFile):
  // the page's own code cannot reach this channel, so it cannot grant itself other files.
  ipcMain.on(IPC_GRANT_PATH, (e, p: unknown) => {
    if (trusted(e) && typeof p === 'string') clientFor(e.sender).grantPath(p);
  });
}
