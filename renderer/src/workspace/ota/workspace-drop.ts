// "Drop a firmware image anywhere on the device workspace" (issue 5): the device workspace's
// drop handlers. A drop the file browser took for a folder never gets here (it stops it); any
// other file dropped on the workspace becomes the device's OTA image and opens the OTA tab.
import type { DragEvent } from 'react';
import { useAppStore, useBridge } from '../../ui/context';
import { otaStore } from './ota-session';

const hasFiles = (e: DragEvent) => Array.from(e.dataTransfer.types).includes('Files');

export function useWorkspaceDrop(prefix: string) {
  const bridge = useBridge();
  const app = useAppStore();
  return {
    onDragOver(e: DragEvent) {
      if (!hasFiles(e)) return;
      e.preventDefault();
      e.dataTransfer.dropEffect = 'copy';
    },
    onDrop(e: DragEvent) {
      if (!hasFiles(e)) return;
      e.preventDefault();
      const file = e.dataTransfer.files[0];
      if (!file) return;
      if (e.dataTransfer.files.length > 1) app.getState().toast('info', `Using ${file.name} as the firmware image; drop one file at a time.`);
      app.getState().setTab(prefix, 'ota');
      void otaStore(bridge).load(prefix, file);
    },
  };
}
