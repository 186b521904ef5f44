// The desktop app's open/save dialogs for file transfers and OTA (app/host-dialogs.ts). Always
// attached to the focused window, so they are modal to the app rather than floating free.
import { BrowserWindow, dialog, type OpenDialogOptions, type SaveDialogOptions } from 'electron';
import type { HostDialogs } from '../app/host-dialogs';

const parent = () => BrowserWindow.getFocusedWindow() ?? BrowserWindow.getAllWindows()[0];

export const electronDialogs: HostDialogs = {
  async open({ title, folder, multiple }) {
    const o: OpenDialogOptions = { title, properties: [folder ? 'openDirectory' : 'openFile', ...(multiple ? (['multiSelections'] as const) : [])] };
    const w = parent();
    const r = w ? await dialog.showOpenDialog(w, o) : await dialog.showOpenDialog(o);
    return r.canceled || r.filePaths.length === 0 ? null : r.filePaths;
  },
  async save({ title, defaultName }) {
    const o: SaveDialogOptions = { title, defaultPath: defaultName };
    const w = parent();
    const r = w ? await dialog.showSaveDialog(w, o) : await dialog.showSaveDialog(o);
    return r.canceled || !r.filePath ? null : r.filePath;
  },
};
