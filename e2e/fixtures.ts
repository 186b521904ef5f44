// The one bootstrap fixture (Signal's test-mock habit): it owns brokers, device processes and
// the app for a test, tears them all down, and on failure saves a screenshot and every log
// under e2e/artifacts/<test>/. Specs wait on app state through locators, never on time.
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test as base, expect, type Locator, type Page } from '@playwright/test';
import { startEmbeddedBroker, startMosquitto, type EmbeddedBroker, type Mosquitto } from '../testing/brokers';
import { launchApp, type AppOptions, type RunningApp } from './harness/app';
import { startDeviceProcess, type DeviceProcOptions } from './harness/devices';
import { artifacts } from './harness/paths';
import type { Proc } from './harness/processes';

export interface Mqb {
  embeddedBroker(): Promise<EmbeddedBroker>;
  mosquitto(): Promise<Mosquitto>;
  devices(o: DeviceProcOptions): Proc;
  app(o?: AppOptions): Promise<RunningApp & { ui: Ui }>;
  /** Saves a screenshot to e2e/artifacts/screens/<name>.png, to be looked at. */
  screenshot(page: Page, name: string): Promise<void>;
}

/** Finders by data-testid, and the app states the specs wait on. */
export interface Ui {
  row(prefix: string): Locator;
  rows(): Locator;
  list(): Locator;
  /** Waits until the app reports its broker connection as connected. */
  connected(): Promise<void>;
}

function ui(page: Page): Ui {
  return {
    row: (prefix) => page.locator(`[data-testid="device-row"][data-prefix="${prefix}"]`),
    rows: () => page.getByTestId('device-row'),
    list: () => page.getByTestId('device-list'),
    connected: () => expect(page.getByTestId('connection-state')).toHaveAttribute('data-phase', 'connected', { timeout: 30_000 }),
  };
}

export const test = base.extend<{ mqb: Mqb }>({
  // Playwright reads a fixture's dependencies from this destructuring pattern: none here.
  // eslint-disable-next-line no-empty-pattern
  mqb: async ({}, use, testInfo) => {
    const cleanups: (() => Promise<unknown>)[] = [];
    const apps: RunningApp[] = [];
    const procs: Proc[] = [];
    const mqb: Mqb = {
      async embeddedBroker() {
        const b = await startEmbeddedBroker({ port: 0 });
        cleanups.push(() => b.close());
        return b;
      },
      async mosquitto() {
        const m = await startMosquitto();
        cleanups.push(() => m.stop());
        return m;
      },
      devices(o) {
        const p = startDeviceProcess(o);
        procs.push(p);
        cleanups.push(() => p.kill());
        return p;
      },
      async app(o) {
        const a = await launchApp(o);
        apps.push(a);
        // A settings folder made for this app goes when the test ends (after the app closes:
        // cleanups run in reverse); a test may still hand it to a second launch before that.
        if (!o?.settingsDir) cleanups.push(async () => rmSync(a.settingsDir, { recursive: true, force: true }));
        cleanups.push(() => a.close());
        return { ...a, ui: ui(a.page) };
      },
      async screenshot(page, name) {
        const dir = path.join(artifacts, 'screens');
        mkdirSync(dir, { recursive: true });
        await page.screenshot({ path: path.join(dir, `${name}.png`) });
      },
    };
    await use(mqb);

    if (testInfo.status !== testInfo.expectedStatus) {
      const dir = path.join(artifacts, testInfo.titlePath.slice(1).join(' - ').replace(/[^\w.-]+/g, '_'));
      mkdirSync(dir, { recursive: true });
      for (const [i, a] of apps.entries()) {
        await a.page.screenshot({ path: path.join(dir, `app-${i}.png`) }).catch(() => {});
        writeFileSync(path.join(dir, `app-${i}.log`), a.logs());
      }
      for (const p of procs) writeFileSync(path.join(dir, `${p.name.replace(/[^\w.-]+/g, '_')}.log`), p.output());
      console.log(`e2e: failure artifacts in ${dir}`);
    }
    for (const c of cleanups.reverse()) await c().catch((e: unknown) => console.warn('e2e cleanup:', e));
  },
});

export { expect };
