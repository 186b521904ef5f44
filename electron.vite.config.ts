// electron-vite (`npm run build`, `npm start` with Electron, `npm run dist`): bundles the main
// process, the preload and the renderer into out/. The main bundle includes our own TypeScript
// (engine, app host, device runtime) and leaves node_modules external; the preload is one
// self-contained CommonJS file, as Electron's sandbox requires. Paths are relative to the
// repository root (npm runs scripts there): electron-vite bundles this file elsewhere, so
// import.meta.dirname would not point here. The renderer settings match
// electron/src/web/renderer-build.ts (web mode), so both shells run the same build.
import { cpSync } from 'node:fs';
import path from 'node:path';
import { defineConfig } from 'electron-vite';
import type { Plugin } from 'vite';
import react from '@vitejs/plugin-react';

const root = process.cwd();

/**
 * Files the bundled device runtime finds next to its own modules by `new URL(…, import.meta.url)`;
 * bundled into out/main/index.js, those URLs resolve relative to out/main: the original-board
 * simulator's python helper (`./python/…` → out/main/python) and the demo application
 * (`../demo/blinky.mjs` → out/demo).
 */
function copyDeviceRuntimeFiles(): Plugin {
  return {
    name: 'mqboard-copy-device-runtime-files',
    writeBundle() {
      cpSync(path.join(root, 'device-runtime/src/original/python'), path.join(root, 'out/main/python'), { recursive: true });
      cpSync(path.join(root, 'device-runtime/demo'), path.join(root, 'out/demo'), { recursive: true });
      // The demo's MicroPython board: its worker and the package's sources, where device.ts looks in a bundle.
      cpSync(path.join(root, 'device-runtime/src/micropython-wasm/worker.mjs'), path.join(root, 'out/main/worker.mjs'));
      cpSync(path.join(root, 'device-runtime/micropython'), path.join(root, 'out/main/micropython'), { recursive: true, filter: (f) => !/\.test\.ts$|test-support|tsconfig\.json$/.test(f) });
    },
  };
}

export default defineConfig({
  main: {
    plugins: [copyDeviceRuntimeFiles()],
    build: {
      outDir: path.join(root, 'out/main'),
      rollupOptions: { input: { index: path.join(root, 'electron/src/main/index.ts') } },
    },
  },
  preload: {
    build: {
      outDir: path.join(root, 'out/preload'),
      externalizeDeps: false,
      isolatedEntries: true,
      rollupOptions: {
        input: { index: path.join(root, 'electron/src/main/preload.ts') },
        output: { format: 'cjs', entryFileNames: '[name].cjs' },
      },
    },
  },
  renderer: {
    root: path.join(root, 'renderer'),
    base: './',
    plugins: [react()],
    build: {
      outDir: path.join(root, 'out/renderer'),
      chunkSizeWarningLimit: 2048,
      // electron-vite reads the renderer entry from rolldownOptions (vite 8).
      rolldownOptions: { input: path.join(root, 'renderer/index.html') },
    },
  },
});
