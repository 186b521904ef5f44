// Builds once what every test launches: the renderer for web mode, or the whole Electron app.
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { buildRenderer } from '../../electron/src/web/renderer-build';
import { repo } from './paths';
import { pickShell } from './shell';

export default async function globalSetup(): Promise<void> {
  const shell = pickShell();
  if (shell.kind === 'web') {
    console.log(`e2e: web mode in Chromium (${shell.reason})`);
    await buildRenderer();
    return;
  }
  console.log(`e2e: Electron app (${shell.binary})`);
  const r = spawnSync(process.execPath, [path.join(repo, 'node_modules/electron-vite/bin/electron-vite.js'), 'build'], { cwd: repo, stdio: 'inherit' });
  if (r.status !== 0) throw new Error('electron-vite build failed');
}
