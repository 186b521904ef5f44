// A clean run leaves a clean console: no errors, no Content-Security-Policy violations and no
// uncaught exceptions while every view is opened once (the terminal's styles included).
import { spawnSync } from 'node:child_process';
import { expect, test } from './fixtures';
import type { Page } from '@playwright/test';

const hasPython = spawnSync('python3', ['--version'], { stdio: 'ignore' }).status === 0;

/** Collects every console error or warning, page error and CSP violation from now on. */
async function watchConsole(page: Page): Promise<string[]> {
  const seen: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error' || m.type() === 'warning') seen.push(`console.${m.type()}: ${m.text()}`);
  });
  page.on('pageerror', (e) => seen.push(`pageerror: ${e.message}`));
  // Violations reported to the page, including those the console would only summarise.
  await page.exposeFunction('__cspViolation', (s: string) => seen.push(`csp: ${s}`));
  await page.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (e) => {
      (window as unknown as { __cspViolation(s: string): void }).__cspViolation(`${e.violatedDirective} ${e.blockedURI} ${e.sourceFile}:${e.lineNumber}`);
    });
  });
  return seen;
}

/** Opens each workspace tab of the open device, ending on the REPL with a Find. */
async function visitTabs(page: Page, prefix: string): Promise<void> {
  const ws = page.getByTestId('device-workspace');
  await expect(ws).toHaveAttribute('data-prefix', prefix);
  for (const tab of ['repl', 'logs', 'files', 'ota', 'details', 'repl']) {
    await ws.getByTestId(`tab-${tab}`).click();
    await expect(ws.getByTestId(`tab-${tab}`)).toHaveAttribute('aria-selected', 'true');
  }
  await expect(ws.getByTestId('repl-terminal').locator('.xterm-rows')).toContainText(/›|>>>/);
  await ws.getByTestId('repl-terminal').click();
  await page.keyboard.type("'find me'");
  await page.keyboard.press('Enter');
  // Find highlights through xterm's decorations (a proposed API that must be enabled).
  await ws.getByTestId('repl-search').fill('find me');
  await ws.getByTestId('repl-search').press('Enter');
  await expect(ws.getByTestId('repl-found')).toContainText(/of \d+/);
}

test('opening every view, the REPL included, logs nothing to the console', async ({ mqb }) => {
  const broker = await mqb.embeddedBroker();
  mqb.devices({ url: broker.url, prefix: 'e2e/clean' });
  const { page, ui } = await mqb.app({ profiles: [{ name: 'Test broker', url: broker.url }] });
  const seen = await watchConsole(page);
  // The listeners above were attached after the first load: load again to watch it too.
  await page.reload();
  await ui.connected();
  await expect(ui.row('e2e/clean')).toHaveAttribute('data-presence', 'online');
  await ui.row('e2e/clean').click();
  await visitTabs(page, 'e2e/clean');

  await page.getByTestId('open-fleet-logs').click();
  await expect(page.getByTestId('workspace')).toHaveClass(/fleet-logs-shown/);
  await page.getByTestId('open-fleet-logs').click();
  await page.getByTestId('open-connections').click();
  await expect(page.getByTestId('profiles-dialog')).toBeVisible();
  await page.keyboard.press('Escape');
  await expect(page.getByTestId('profiles-dialog')).toHaveCount(0);

  expect(seen).toEqual([]);
});

test('the line-mode REPL of an original board logs nothing to the console', async ({ mqb }) => {
  test.skip(!hasPython, 'the original-board simulator needs python3: apt-get install python3 (CI installs it)');
  const { page, ui } = await mqb.app();
  const seen = await watchConsole(page);
  await page.reload();
  await ui.connected();
  await expect(ui.row('lab/original-board')).toHaveAttribute('data-presence', 'online');
  await ui.row('lab/original-board').click();
  await visitTabs(page, 'lab/original-board');
  expect(seen).toEqual([]);
});
