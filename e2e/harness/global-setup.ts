// Builds once what every test launches: the renderer for web mode, or the whole Electron app.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { build } from 'vite';
import { rendererConfig } from '../../electron/src/web/renderer-build';
import { repo } from './paths';
import { pickShell } from './shell';

export default async function globalSetup(): Promise<(() => void) | void> {
  const shell = pickShell();
  if (shell.kind === 'web') {
    console.log(`e2e: web mode in Chromium (${shell.reason})`);
    // A build of this run's own, which the app hosts serve (harness/app.ts): another run that
    // rebuilt out/renderer meanwhile would swap the files under this run's pages.
    const dir = mkdtempSync(path.join(os.tmpdir(), 'mqb-e2e-renderer-'));
    const config = rendererConfig();
    await build({ ...config, build: { ...config.build, outDir: dir, emptyOutDir: false } });
    // Set before the workers start, so they inherit it.
    process.env.MQBOARD_E2E_RENDERER_DIR = dir;
    return () => rmSync(dir, { recursive: true, force: true });
  }
  console.log(`e2e: Electron app (${shell.binary})`);
  const r = spawnSync(process.execPath, [path.join(repo, 'node_modules/electron-vite/bin/electron-vite.js'), 'build'], { cwd: repo, stdio: 'inherit' });
  if (r.status !== 0) throw new Error('electron-vite build failed');
}
