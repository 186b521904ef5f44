// The renderer's Vite settings, shared by web mode (built on start, about a second) and
// electron-vite (electron.vite.config.ts), so both shells load the same build from out/renderer.
import path from 'node:path';
import react from '@vitejs/plugin-react';
import { build, type InlineConfig } from 'vite';

export const repoRoot = path.resolve(import.meta.dirname, '../../..');
export const rendererOutDir = path.join(repoRoot, 'out/renderer');

export function rendererConfig(): InlineConfig {
  return {
    configFile: false,
    root: path.join(repoRoot, 'renderer'),
    base: './',
    plugins: [react()],
    logLevel: 'warn',
    build: {
      outDir: rendererOutDir,
      emptyOutDir: true,
      // A desktop app and a loopback server: no need to split chunks for slow networks.
      chunkSizeWarningLimit: 2048,
    },
  };
}

export async function buildRenderer(): Promise<void> {
  await build(rendererConfig());
}
