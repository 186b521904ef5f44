// Starts the app the way a user does, in a fresh settings directory: the Electron app (through
// Playwright's Electron support) or web mode (the host process plus Debian's Chromium).
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { _electron, chromium, type Browser, type ElectronApplication, type Page } from '@playwright/test';
import { CHROMIUM, CHROMIUM_ARGS, repo } from './paths';
import { spawnProc, type Proc } from './processes';
import { pickShell } from './shell';

/**
 * The demo fleet at the tests' pace (demo.ts reads these): its battery board sleeps 15 s instead
 * of 40, still long enough to queue a command and read its countdown, and a boot counts as good
 * after 5 s instead of 15, so a rollout's gate passes sooner. Every check still waits on state.
 */
const DEMO_PACE = { MQBOARD_DEMO_SLEEP_S: '15', MQBOARD_DEMO_ALLOK_S: '5' };

export interface ProfileSeed {
  name: string;
  url: string;
}

export interface AppOptions {
  /** Saved profiles; the first becomes active. None = first run, which opens the demo fleet. */
  profiles?: ProfileSeed[];
  colorScheme?: 'light' | 'dark';
  /** Reuse this settings (and data) directory: restarts the app against what it stored before. */
  settingsDir?: string;
}

export interface RunningApp {
  page: Page;
  shell: 'electron' | 'web';
  settingsDir: string;
  logs(): string;
  close(): Promise<void>;
}

export async function launchApp(o: AppOptions = {}): Promise<RunningApp> {
  const shell = pickShell();
  const settingsDir = o.settingsDir ?? mkdtempSync(path.join(os.tmpdir(), 'mqb-e2e-settings-'));
  if (o.profiles?.length) {
    const profiles = o.profiles.map((p, i) => ({ id: `e2e-${i}`, name: p.name, url: p.url }));
    const settings = { version: 1, secrets: shell.kind === 'web' ? 'file-0600' : 'safeStorage', active: profiles[0]!.id, profiles };
    writeFileSync(path.join(settingsDir, 'settings.json'), JSON.stringify(settings), { mode: 0o600 });
  }
  const console: string[] = [];
  const record = (page: Page) => {
    page.on('console', (m) => console.push(`[console.${m.type()}] ${m.text()}`));
    page.on('pageerror', (e) => console.push(`[pageerror] ${e.message}`));
  };

  if (shell.kind === 'electron') {
    const app: ElectronApplication = await _electron.launch({
      executablePath: shell.binary,
      // Chromium refuses to start its OS sandbox as root (containers); the renderer stays
      // sandboxed by webPreferences either way.
      args: [...(process.getuid?.() === 0 ? ['--no-sandbox'] : []), repo],
      cwd: repo,
      env: { ...process.env, ...DEMO_PACE, MQBOARD_SETTINGS_DIR: settingsDir } as Record<string, string>,
      colorScheme: o.colorScheme ?? 'light',
    });
    const out: string[] = [];
    app.process().stdout?.on('data', (d: Buffer) => out.push(d.toString()));
    app.process().stderr?.on('data', (d: Buffer) => out.push(d.toString()));
    const page = await app.firstWindow();
    record(page);
    return {
      page,
      shell: 'electron',
      settingsDir,
      logs: () => [...out, ...console].join('\n'),
      close: () => app.close(),
    };
  }

  // The renderer this run built (global-setup.ts), where there is one.
  const rendererDir = process.env.MQBOARD_E2E_RENDERER_DIR ? ['--renderer-dir', process.env.MQBOARD_E2E_RENDERER_DIR] : [];
  const host: Proc = spawnProc('web host', process.execPath, [path.join(repo, 'bin/run-ts.mjs'), path.join(repo, 'electron/src/web/main.ts'), '--port', '0', ...rendererDir], {
    cwd: repo,
    env: { ...DEMO_PACE, MQBOARD_SETTINGS_DIR: settingsDir },
  });
  let browser: Browser | undefined;
  try {
    // The host compiles its TypeScript as it loads and, on a first run, starts the demo fleet
    // before it prints its address: on a busy machine that can take well over half a minute.
    const [, url] = await host.waitFor(/MQBoard web mode: (http:\/\/\S+)/, 90_000);
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
    const page = await browser.newPage({ viewport: { width: 1400, height: 860 }, colorScheme: o.colorScheme ?? 'light' });
    record(page);
    await page.goto(url!);
    const b = browser;
    return {
      page,
      shell: 'web',
      settingsDir,
      logs: () => [host.output(), ...console].join('\n'),
      async close() {
        await b.close();
        await host.kill();
      },
    };
  } catch (e) {
    await browser?.close();
    await host.kill();
    throw e;
  }
}
