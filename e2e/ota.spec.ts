// OTA from the device workspace against a real device process: an app bundle dropped on the
// workspace is inspected (size, SHA-256, target slot), streamed with progress, and after
// "Reboot into new firmware" the device comes back reporting the new version on trial in the
// other slot. A damaged image is refused before anything is sent and the device keeps its version.
import { createHash } from 'node:crypto';
import type { Page } from '@playwright/test';
import { createBundle } from '../device-runtime/src';
import { expect, test } from './fixtures';

const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

async function dropFile(page: Page, selector: string, name: string, data: Uint8Array) {
  const dt = await page.evaluateHandle(
    (f) => {
      const bin = atob(f.b64);
      const bytes = new Uint8Array(bin.length);
      for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
      const t = new DataTransfer();
      t.items.add(new File([bytes], f.name));
      return t;
    },
    { name, b64: Buffer.from(data).toString('base64') },
  );
  await page.locator(selector).dispatchEvent('dragover', { dataTransfer: dt });
  await page.locator(selector).dispatchEvent('drop', { dataTransfer: dt });
}

// Big enough that the stream takes several windows of chunks.
const appFiles = { 'app.mjs': 'export function start() {}\n', 'assets/blob.txt': 'x'.repeat(600_000) };

test('ota: drop an image, stream it, reboot, and the device is back with the new version', async ({ mqb }) => {
  const broker = await mqb.embeddedBroker();
  mqb.devices({ url: broker.url, prefix: 'e2e/ota' });
  const { page, ui } = await mqb.app({ profiles: [{ name: 'Test broker', url: broker.url }] });
  await ui.connected();
  await expect(ui.row('e2e/ota')).toHaveAttribute('data-presence', 'online');
  await ui.row('e2e/ota').click();

  const image = await createBundle({ name: 'weather', version: '2.5.0', modules: [] }, appFiles);
  // Dropped on the workspace while the Details tab shows: the OTA tab takes it.
  await dropFile(page, '[data-testid="device-workspace"]', 'weather-2.5.0.tar', image);
  await expect(page.getByTestId('tab-ota')).toHaveAttribute('aria-selected', 'true');
  const info = page.getByTestId('ota-info');
  await expect(info).toHaveAttribute('data-refused', 'false');
  await expect(info.getByTestId('ota-sha')).toHaveText(sha256(image));
  await expect(info.getByTestId('ota-size')).toHaveAttribute('data-bytes', String(image.length));
  await expect(info.getByTestId('ota-target-slot')).toContainText('slot b');
  await expect(info.getByTestId('ota-versions')).toContainText('2.5.0');
  await expect(page.locator('[data-testid="ota-slot"][data-slot="a"]')).toContainText('confirmed');
  await mqb.screenshot(page, 'ota-ready-light');

  await page.getByTestId('ota-start').click();
  await page.getByTestId('confirm-ok').click();
  const progress = page.getByTestId('ota-progress').getByTestId('transfer-row');
  await expect(progress).toHaveAttribute('data-kind', 'ota');
  await expect(progress).toHaveAttribute('data-state', 'done', { timeout: 60_000 });
  await expect(page.getByTestId('ota-done')).toBeVisible();
  await mqb.screenshot(page, 'ota-written-light');
  await page.emulateMedia({ colorScheme: 'dark' });
  await mqb.screenshot(page, 'ota-written-dark');
  await page.emulateMedia({ colorScheme: 'light' });

  await page.getByTestId('ota-reboot').click();
  await page.getByTestId('confirm-ok').click();
  const follow = page.getByTestId('ota-follow');
  await expect(follow).toHaveAttribute('data-back', 'true', { timeout: 60_000 });
  await expect(follow).toHaveAttribute('data-rolled-back', 'false');
  await expect(follow.getByTestId('ota-version')).toContainText('Running 2.5.0');
  await expect(follow.getByTestId('ota-version')).toContainText('slot b');
  // The new slot runs on trial until the watchdog's all-OK confirms it (allok, minutes).
  await expect(follow.getByTestId('ota-step-confirmed')).toHaveAttribute('data-ok', 'false');
  await expect(page.getByTestId('ota-success')).toBeVisible();
  await expect(page.getByTestId('ota-current-version')).toHaveText('2.5.0');
  await expect(page.locator('[data-testid="ota-slot"][data-slot="b"]')).toContainText('on trial');
  await mqb.screenshot(page, 'ota-back-light');
});

test('ota: a damaged image is refused and the device keeps its version', async ({ mqb }) => {
  const broker = await mqb.embeddedBroker();
  mqb.devices({ url: broker.url, prefix: 'e2e/ota2' });
  const { page, ui } = await mqb.app({ profiles: [{ name: 'Test broker', url: broker.url }] });
  await ui.connected();
  await expect(ui.row('e2e/ota2')).toHaveAttribute('data-presence', 'online');
  await ui.row('e2e/ota2').click();
  await page.getByTestId('tab-ota').click();
  const before = await page.getByTestId('ota-current-version').textContent();

  const image = await createBundle({ name: 'weather', version: '9.9.9', modules: [] }, appFiles);
  const damaged = image.subarray(0, Math.floor(image.length * 0.6));
  await page.getByTestId('ota-input').setInputFiles({ name: 'damaged.tar', mimeType: 'application/x-tar', buffer: Buffer.from(damaged) });
  await expect(page.getByTestId('ota-info')).toHaveAttribute('data-refused', 'true');
  await expect(page.getByTestId('ota-refused')).toContainText('not an app bundle');
  await expect(page.getByTestId('ota-start')).toBeDisabled();
  await mqb.screenshot(page, 'ota-refused-light');

  await page.getByTestId('ota-discard').click();
  await expect(page.getByTestId('ota-dropzone')).toBeVisible();
  await expect(page.getByTestId('ota-current-version')).toHaveText(before ?? '');
  await expect(page.locator('[data-testid="ota-slot"][data-slot="b"]')).toContainText('empty');
});
