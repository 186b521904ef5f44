// `npm start` and `npm run web`. The desktop app when the Electron binary exists; otherwise one
// line saying so, then web mode. `--web` always runs web mode. Web mode builds the renderer
// first (vite, about a second), so a fresh `npm ci` needs no separate build step.
import { spawn } from 'node:child_process';
import path from 'node:path';
import { electronBinary } from './electron-binary';
import { buildRenderer, repoRoot as repo } from './renderer-build';
const webOnly = process.argv.includes('--web');
const passArgs = process.argv.slice(2).filter((a) => a !== '--web');

const electron = webOnly ? undefined : electronBinary();
if (electron && 'path' in electron) {
  // electron-vite bundles main, preload and renderer into out/, then the binary runs out/main.
  const vite = spawn(process.execPath, [path.join(repo, 'node_modules/electron-vite/bin/electron-vite.js'), 'build'], { cwd: repo, stdio: 'inherit' });
  vite.on('exit', (code) => {
    if (code !== 0) process.exit(code ?? 1);
    const app = spawn(electron.path, [repo, ...passArgs], { cwd: repo, stdio: 'inherit' });
    app.on('exit', (c) => process.exit(c ?? 0));
  });
} else {
  if (electron) console.log(`MQBoard: no desktop app here (${electron.missing}); running web mode instead.`);
  await buildRenderer();
  // The page names this command when it needs the address again (the no-token page).
  process.argv = [process.argv[0]!, process.argv[1]!, ...passArgs, '--launched-by', webOnly ? 'npm run web' : 'npm start'];
  await import('./main');
}
