// The Files tab against a real device process: a new folder, a 1 MB file dropped on it from
// "the OS" (a drop event carrying a DataTransfer) shows with its size and downloads back with
// the same SHA-256; rename; delete (a file, then a folder recursively); edit and save a text
// file, read back from the device.
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Page } from '@playwright/test';
import { expect, test } from './fixtures';

const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

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

const row = (page: Page, path: string) => page.locator(`[data-testid="file-row"][data-path="${path}"]`);

test('files: drop a 1 MB file on a folder, download it, rename, delete, edit and save', async ({ mqb }) => {
  const broker = await mqb.embeddedBroker();
  mqb.devices({ url: broker.url, prefix: 'e2e/files' });
  const { page, ui } = await mqb.app({ profiles: [{ name: 'Test broker', url: broker.url }] });
  await ui.connected();
  await expect(ui.row('e2e/files')).toHaveAttribute('data-presence', 'online');
  await ui.row('e2e/files').click();
  await page.getByTestId('tab-files').click();
  await expect(page.getByTestId('file-tree')).toBeVisible();

  // New folder in the root.
  await page.getByTestId('files-mkdir').click();
  await page.getByTestId('name-input').fill('data');
  await page.getByTestId('name-ok').click();
  await expect(row(page, '/data')).toHaveAttribute('data-type', 'dir');

  // Drop 1 MB on the folder: it uploads into it and shows with its size.
  const blob = randomBytes(1024 * 1024);
  await dropFiles(page, '[data-testid="file-row"][data-path="/data"]', [{ name: 'blob.bin', data: blob }]);
  const uploaded = page.locator('[data-testid="transfer-row"][data-path="/data/blob.bin"]');
  await expect(uploaded).toHaveAttribute('data-state', 'done', { timeout: 30_000 });
  await expect(uploaded.getByTestId('transfer-progress')).toContainText('1.0 MB');
  await expect(row(page, '/data/blob.bin')).toHaveAttribute('data-size', String(blob.length));

  // Its downloaded copy is byte-identical.
  const downloading = page.waitForEvent('download');
  await row(page, '/data/blob.bin').getByTestId('row-download').click();
  const download = await downloading;
  expect(download.suggestedFilename()).toBe('blob.bin');
  expect(sha256(readFileSync(await download.path()))).toBe(sha256(blob));

  // Rename.
  await row(page, '/data/blob.bin').getByTestId('row-rename').click();
  await page.getByTestId('name-input').fill('renamed.bin');
  await page.getByTestId('name-ok').click();
  await expect(row(page, '/data/renamed.bin')).toHaveAttribute('data-size', String(blob.length));
  await expect(row(page, '/data/blob.bin')).toHaveCount(0);

  // Edit and save a text file dropped on the root (the tree's empty space).
  await dropFiles(page, '[data-testid="file-tree"]', [{ name: 'main.py', data: Buffer.from('def hello():\n    return 1\n') }]);
  await expect(row(page, '/main.py')).toHaveAttribute('data-size', '26');
  await row(page, '/main.py').getByTestId('row-open').click();
  const editor = page.getByTestId('editor');
  await expect(editor.locator('.cm-content')).toContainText('def hello():');
  await expect(editor.getByTestId('code-editor')).toHaveAttribute('data-language', 'python');
  await mqb.screenshot(page, 'files-light');
  await page.emulateMedia({ colorScheme: 'dark' });
  await mqb.screenshot(page, 'files-dark');
  await page.emulateMedia({ colorScheme: 'light' });
  await editor.locator('.cm-content').click();
  await page.keyboard.press('Control+End');
  await page.keyboard.type('print(hello())\n');
  await expect(editor).toHaveAttribute('data-dirty', 'true');
  await editor.getByTestId('editor-save').click();
  await expect(editor.getByTestId('editor-status')).toContainText('verified');
  await expect(editor).toHaveAttribute('data-dirty', 'false');
  // Read back from the device: the tree shows the new size and a fresh editor the new text.
  await expect(row(page, '/main.py')).toHaveAttribute('data-size', '41');
  await editor.getByTestId('editor-close').click();
  await row(page, '/main.py').getByTestId('row-open').click();
  await expect(page.getByTestId('editor').locator('.cm-content')).toContainText('print(hello())');

  // Delete a file, then the folder with what is left in it.
  await row(page, '/main.py').getByTestId('row-delete').click();
  await page.getByTestId('confirm-ok').click();
  await expect(row(page, '/main.py')).toHaveCount(0);
  await expect(page.getByTestId('editor')).toHaveCount(0);
  await row(page, '/data').getByTestId('row-delete').click();
  await expect(page.getByTestId('confirm-dialog')).toContainText('everything in it');
  await page.getByTestId('confirm-ok').click();
  await expect(row(page, '/data')).toHaveCount(0);
  await expect(row(page, '/data/renamed.bin')).toHaveCount(0);

  // A folder chosen with the picker uploads recursively, empty subfolders included.
  const local = mkdtempSync(path.join(os.tmpdir(), 'mqb-e2e-folder-'));
  mkdirSync(path.join(local, 'proj', 'lib', 'empty'), { recursive: true });
  writeFileSync(path.join(local, 'proj', 'boot.py'), 'import lib.util\n');
  writeFileSync(path.join(local, 'proj', 'lib', 'util.py'), 'X = 42\n');
  await page.getByTestId('upload-folder-input').setInputFiles(path.join(local, 'proj'));
  await expect(row(page, '/proj')).toHaveAttribute('data-type', 'dir');
  await row(page, '/proj').click();
  await expect(row(page, '/proj/boot.py')).toHaveAttribute('data-size', '16');
  await row(page, '/proj/lib').click();
  await expect(row(page, '/proj/lib/util.py')).toHaveAttribute('data-size', '7');
  rmSync(local, { recursive: true, force: true });
});
