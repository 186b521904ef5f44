// `npm run web`: the app in a browser. Creates the app host (engine, profiles, demo fleet),
// serves the built renderer and the WebSocket bridge on 127.0.0.1, and prints the address with
// its per-run token. Settings live in a file only the owner can read (mode 0600): the browser
// has no keychain, so this is the protection the README describes.
import { readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { createAppHost } from '../app/app-host';
import { plainFileCodec } from '../app/secrets';
import { startWebServer } from './server';

const repo = path.resolve(import.meta.dirname, '../../..');

const { values } = parseArgs({
  options: {
    port: { type: 'string', default: process.env.MQBOARD_WEB_PORT ?? '0' },
    'settings-dir': { type: 'string', default: process.env.MQBOARD_SETTINGS_DIR ?? defaultSettingsDir() },
    'renderer-dir': { type: 'string', default: path.join(repo, 'out/renderer') },
    'no-demo': { type: 'boolean', default: false },
    /** Set by start.ts: `npm start` or `npm run web`. */
    'launched-by': { type: 'string', default: 'npm run web' },
  },
});

function defaultSettingsDir(): string {
  const base = process.env.XDG_CONFIG_HOME && path.isAbsolute(process.env.XDG_CONFIG_HOME) ? process.env.XDG_CONFIG_HOME : path.join(os.homedir(), '.config');
  return path.join(base, 'mqboard-web');
}

const version = (JSON.parse(readFileSync(path.join(repo, 'package.json'), 'utf8')) as { version: string }).version;

let host: Awaited<ReturnType<typeof createAppHost>>;
let server: Awaited<ReturnType<typeof startWebServer>>;
try {
  host = await createAppHost({
    shell: 'web',
    version,
    settingsDir: values['settings-dir'],
    codec: plainFileCodec,
    demoOnFirstRun: !values['no-demo'],
  });
  server = await startWebServer({ bridge: host.bridge, rendererDir: values['renderer-dir'], port: Number(values.port), launchCommand: values['launched-by'] });
} catch (e) {
  console.error(`mqboard web: ${e instanceof Error ? e.message : String(e)}`);
  process.exit(1);
}

// One line a person can click and a test can parse.
console.log(`MQBoard web mode: ${server.url}`);
console.log(`  settings: ${host.profiles.path} (mode 0600, secrets unencrypted)`);

let stopping = false;
const stop = () => {
  if (stopping) process.exit(1);
  stopping = true;
  void Promise.allSettled([server.close(), host.close()]).then(() => process.exit(0));
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
