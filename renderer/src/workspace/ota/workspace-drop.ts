// "Drop a firmware image anywhere on the device workspace": the device workspace's
// drop handlers. A drop the file browser took for a folder or the transfer panel took for an
// upload never gets here (they stop it). A drop elsewhere in the file browser is not an image
// either: the browser's own drop is refused there with a hint, never turned into an OTA. Any
// other file dropped on the workspace becomes the device's OTA image and opens the OTA tab.
import type { DragEvent } from 'react';
import { useAppStore, useBridge } from '../../ui/context';
import { otaStore } from './ota-session';

const hasFiles = (e: DragEvent) => Array.from(e.dataTransfer.types).includes('Files');
const inFileBrowser = (e: DragEvent) => e.target instanceof Element && e.target.closest('[data-testid="files-tab"]') !== null;

export function useWorkspaceDrop(prefix: string) {
  const bridge = useBridge();
  const app = useAppStore();
  return {
    onDragOver(e: DragEvent) {
      if (!hasFiles(e)) return;
      // Always prevented: an unhandled drop would make the browser open the file instead.
      e.preventDefault();
      e.dataTransfer.dropEffect = inFileBrowser(e) ? 'none' : 'copy';
    },
    onDrop(e: DragEvent) {
      if (!hasFiles(e)) return;
      e.preventDefault();
      if (inFileBrowser(e)) {
        app.getState().toast('info', 'To upload, drop files on a folder or on the transfer panel. Firmware images go on the OTA tab.');
        return;
      }
      const file = e.dataTransfer.files[0];
      if (!file) return;
      if (e.dataTransfer.files.length > 1) app.getState().toast('info', `Using ${file.name} as the firmware image; drop one file at a time.`);
      app.getState().setTab(prefix, 'ota');
      void otaStore(bridge).load(prefix, file);
    },
  };
}
