// The Electron main process: one app host (engine, profiles, demo fleet), one window, the IPC
// transport of the bridge. Safe defaults throughout: sandboxed, context-isolated renderer
// without Node, a strict CSP (renderer/index.html), no navigation or new windows.
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { app, BrowserWindow, dialog, nativeTheme } from 'electron';
import { createAppHost, type AppHost } from '../app/app-host';
import { electronDialogs } from './dialogs';
import { serveIpc } from './ipc';
import { installMenu } from './menu';
import { safeStorageCodec } from './safe-storage-codec';
import { hardenApp } from './security';

const here = import.meta.dirname;
const indexHtml = path.join(here, '../renderer/index.html');
const devUrl = process.env.ELECTRON_RENDERER_URL;
const appUrl = devUrl ?? pathToFileURL(indexHtml).href;
/** Our page and nothing else: the built index.html, or the electron-vite dev server. */
const isAppUrl = (url: string) => url.split('#')[0] === appUrl.split('#')[0] || (devUrl !== undefined && url.startsWith(devUrl));

app.enableSandbox();
// One instance: a second launch focuses the first window (and must not start a second engine).
const primary = app.requestSingleInstanceLock();
if (!primary) app.quit();
else hardenApp(isAppUrl);

let host: AppHost | undefined;
let win: BrowserWindow | undefined;

function createWindow(): BrowserWindow {
  const w = new BrowserWindow({
    width: 1360,
    height: 860,
    minWidth: 900,
    minHeight: 560,
    title: 'MQBoard',
    show: false,
    backgroundColor: nativeTheme.shouldUseDarkColors ? '#15181c' : '#f4f5f7',
    webPreferences: {
      preload: path.join(here, '../preload/index.cjs'),
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      webSecurity: true,
      spellcheck: false,
    },
  });
  w.once('ready-to-show', () => w.show());
  if (devUrl) void w.loadURL(devUrl);
  else void w.loadFile(indexHtml);
  return w;
}

app.on('second-instance', () => {
  if (win?.isMinimized()) win.restore();
  win?.focus();
});

app.whenReady().then(async () => {
  if (!primary) return;
  try {
    host = await createAppHost({
      shell: 'electron',
      version: app.getVersion(),
      settingsDir: process.env.MQBOARD_SETTINGS_DIR ?? app.getPath('userData'),
      codec: safeStorageCodec,
      dialogs: electronDialogs,
    });
  } catch (e) {
    // A settings file we cannot read must not leave a process with no window.
    dialog.showErrorBox('MQBoard cannot start', e instanceof Error ? e.message : String(e));
    app.exit(1);
    return;
  }
  serveIpc(host.bridge, isAppUrl);
  installMenu(host);
  win = createWindow();
  app.on('activate', () => {
    if (BrowserWindow.getAllWindows().length === 0) win = createWindow();
  });
});

app.on('window-all-closed', () => {
  if (process.platform !== 'darwin') app.quit();
});

let closing = false;
app.on('will-quit', (e) => {
  if (closing || !host) return;
  // Stop the demo fleet and the broker connection cleanly (retained offline statuses, no
  // dangling sockets) before the process exits.
  e.preventDefault();
  closing = true;
  void host.close().finally(() => app.quit());
});
