// A drop on the Files tab's transfer panel goes where the panel says: an upload into the current
// folder, never a firmware update. Before, the drop fell through to the workspace's OTA drop.
import { randomBytes } from 'node:crypto';
import type { Page } from '@playwright/test';
import { expect, test } from './fixtures';

/** Drops files on an element the way the OS does: dragenter/dragover, then drop, one DataTransfer. */
async function dropFiles(page: Page, selector: string, files: { name: string; data: Buffer }[]) {
  const dt = await page.evaluateHandle((fs) => {
    const t = new DataTransfer();
    for (const f of fs) {
      const bin = atob(f.b64);
      const bytes = new Uint8Array(bin.length);
      for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
      t.items.add(new File([bytes], f.name));
    }
    return t;
  }, files.map((f) => ({ name: f.name, b64: f.data.toString('base64') })));
  const target = page.locator(selector);
  await target.dispatchEvent('dragenter', { dataTransfer: dt });
  await target.dispatchEvent('dragover', { dataTransfer: dt });
  await target.dispatchEvent('drop', { dataTransfer: dt });
}

test('a file dropped on the transfer panel uploads into the current folder and starts no OTA', async ({ mqb }) => {
  const broker = await mqb.embeddedBroker();
  mqb.devices({ url: broker.url, prefix: 'e2e/xdrop' });
  const { page, ui } = await mqb.app({ profiles: [{ name: 'Test broker', url: broker.url }] });
  await ui.connected();
  await expect(ui.row('e2e/xdrop')).toHaveAttribute('data-presence', 'online');
  await ui.row('e2e/xdrop').click();
  await page.getByTestId('tab-files').click();
  await expect(page.getByTestId('file-tree')).toBeVisible();

  const panel = page.getByTestId('transfer-panel');
  const folder = (await page.getByTestId('target-dir').textContent())?.trim() ?? '';
  expect(folder).toBe(await panel.getAttribute('data-drop-path'));
  const data = randomBytes(200 * 1024);
  await dropFiles(page, '[data-testid="transfer-panel"]', [{ name: 'panel.bin', data }]);

  const target = `${folder.replace(/\/$/, '')}/panel.bin`;
  const uploaded = page.locator(`[data-testid="transfer-row"][data-kind="upload"][data-path="${target}"]`);
  await expect(uploaded).toHaveAttribute('data-state', 'done', { timeout: 30_000 });
  await expect(page.locator(`[data-testid="file-row"][data-path="${target}"]`)).toHaveAttribute('data-size', String(data.length));
  // Still on the Files tab, and nothing became a firmware image.
  await expect(page.getByTestId('tab-files')).toHaveAttribute('aria-selected', 'true');
  await expect(page.getByTestId('tab-ota')).toHaveAttribute('aria-selected', 'false');
  await expect(page.locator('[data-testid="transfer-row"][data-kind="ota"]')).toHaveCount(0);

  // A drop elsewhere in the file browser (its toolbar) is neither an upload nor an OTA.
  await dropFiles(page, '[data-testid="files-mkdir"]', [{ name: 'stray.bin', data: randomBytes(1024) }]);
  await expect(page.getByText(/drop files on a folder or on the transfer panel/i)).toBeVisible();
  await expect(page.getByTestId('tab-ota')).toHaveAttribute('aria-selected', 'false');
  await expect(page.locator('[data-testid="transfer-row"][data-path$="stray.bin"]')).toHaveCount(0);
  await mqb.screenshot(page, 'transfer-drop');
});
