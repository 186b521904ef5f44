// The system dialogs the file browser and OTA need. Only the desktop app has them: the Electron
// main process implements this (electron/src/main/dialogs.ts); in web mode the page uses the
// browser's own file picker and downloads, and the host gets no dialogs at all.
export interface HostDialogs {
  /** Absolute paths of the chosen files (or of one chosen folder), or null when cancelled. */
  open(o: { title: string; folder: boolean; multiple: boolean }): Promise<string[] | null>;
  /** The chosen destination file, or null when cancelled. */
  save(o: { title: string; defaultName: string }): Promise<string | null>;
}
