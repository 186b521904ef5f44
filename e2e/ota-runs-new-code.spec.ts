// An OTA from the UI must run the code it ships. The device here has a config.json that lists
// its own module (`oldapp` in /lib), as demo devices do; the app bundle ships another one. After
// "Reboot into new firmware" the new module's own log line appears in the Logs tab, the old
// module's does not come back, and Details shows the new version and which modules started.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Page } from '@playwright/test';
import { createBundle } from '../device-runtime/src';
import { expect, test } from './fixtures';
import { repo } from './harness/paths';
import { spawnProc } from './harness/processes';

const PREFIX = 'e2e/otanew';

/** A device root whose config.json names a module of its own, as a demo device's does. */
function deviceRoot(): string {
  const root = mkdtempSync(path.join(os.tmpdir(), 'mqb-e2e-otanew-'));
  mkdirSync(path.join(root, 'lib'));
  writeFileSync(path.join(root, 'lib', 'oldapp.mjs'), 'export function start(mqtt) { mqtt.log.info("old code 1.9.3 running"); }\n');
  writeFileSync(path.join(root, 'config.json'), JSON.stringify({ modules: ['oldapp'], newapp: { greeting: 'new code 2.5.0 running' } }));
  return root;
}

const logRow = (page: Page, text: string) => page.getByTestId('log-row').filter({ hasText: text });

test('ota: the update runs the modules it ships, even where config.json lists others', async ({ mqb }) => {
  const broker = await mqb.embeddedBroker();
  const root = deviceRoot();
  const u = new URL(broker.url);
  // The app first, so it sees the device's first boot in the log (P/log is not retained).
  const { page, ui } = await mqb.app({ profiles: [{ name: 'Test broker', url: broker.url }] });
  await ui.connected();
  const device = spawnProc(`device ${PREFIX}`, process.execPath, [path.join(repo, 'bin/mqboard-device.mjs'), '--server', u.hostname, '--port', u.port, '--prefix', PREFIX, '--root', root, '--quiet'], { cwd: repo });
  try {
    await expect(ui.row(PREFIX)).toHaveAttribute('data-presence', 'online');
    await ui.row(PREFIX).click();
    await page.getByTestId('tab-logs').click();
    await expect(logRow(page, 'modules started: oldapp')).toBeVisible();

    // The new module logs its config's greeting: config.json still configures modules by name.
    const image = await createBundle(
      { name: 'weather', version: '2.5.0', modules: ['newapp'] },
      { 'newapp.mjs': 'export function start(mqtt, config) { mqtt.log.info(config.greeting); }\n' },
    );
    await page.getByTestId('tab-ota').click();
    await page.getByTestId('ota-input').setInputFiles({ name: 'weather-2.5.0.tar', mimeType: 'application/x-tar', buffer: image });
    await expect(page.getByTestId('ota-info')).toHaveAttribute('data-refused', 'false');
    await page.getByTestId('ota-start').click();
    await page.getByTestId('confirm-ok').click();
    await expect(page.getByTestId('ota-done')).toBeVisible({ timeout: 60_000 });
    await page.getByTestId('ota-reboot').click();
    await page.getByTestId('confirm-ok').click();
    const follow = page.getByTestId('ota-follow');
    await expect(follow).toHaveAttribute('data-back', 'true', { timeout: 60_000 });
    await expect(follow.getByTestId('ota-version')).toContainText('Running 2.5.0');

    // The new code ran: its own line is in the log, and the old module did not start again.
    await page.getByTestId('tab-logs').click();
    await expect(logRow(page, 'new code 2.5.0 running')).toBeVisible();
    await expect(logRow(page, 'modules started: newapp')).toBeVisible();
    await expect(logRow(page, 'config.json modules oldapp not started: app bundle weather 2.5.0 ships newapp')).toBeVisible();
    await expect(logRow(page, 'old code 1.9.3 running')).toHaveCount(1);
    await mqb.screenshot(page, 'ota-new-code-logs-light');

    await page.getByTestId('tab-details').click();
    const details = page.getByTestId('device-details');
    await expect(details).toContainText('2.5.0');
    await expect(details.getByTestId('recent-log')).toContainText('modules started: newapp');
    await mqb.screenshot(page, 'ota-new-code-details-light');
  } finally {
    await device.kill();
    rmSync(root, { recursive: true, force: true });
  }
});
