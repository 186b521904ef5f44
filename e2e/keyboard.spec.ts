// The keyboard: global shortcuts stay out of the editor, the terminal and fields; closing an
// editor with unsaved changes asks; the list keys work on a fresh page; after Reconnect the
// keyboard is the terminal's again; Ctrl+Shift+V pastes once.
import type { Page } from '@playwright/test';
import { expect, test } from './fixtures';

/** Lands a file in a folder of the device the way the OS drops one on the file tree. */
async function dropFile(page: Page, name: string, text: string): Promise<void> {
  const dt = await page.evaluateHandle(
    (f) => {
      const t = new DataTransfer();
      t.items.add(new File([f.text], f.name));
      return t;
    },
    { name, text },
  );
  const tree = page.getByTestId('file-tree');
  for (const type of ['dragenter', 'dragover', 'drop']) await tree.dispatchEvent(type, { dataTransfer: dt });
}

/** The terminal's visible lines (xterm's DOM renderer), with its non-breaking spaces as spaces. */
async function lines(page: Page): Promise<string[]> {
  const rows = await page.getByTestId('repl-terminal').locator('.xterm-rows > div').allTextContents();
  return rows.map((r) => r.replace(/\u00a0/g, ' ').trimEnd());
}

/** Waits until the line after the echoed `input` reads `output`. */
async function expectResult(page: Page, input: string, output: string): Promise<void> {
  await expect
    .poll(async () => {
      const all = await lines(page);
      return all.flatMap((l, i) => (l.endsWith(input) ? [all[i + 1] ?? ''] : [])).pop();
    })
    .toBe(output);
}

const fileRow = (page: Page, path: string) => page.locator(`[data-testid="file-row"][data-path="${path}"]`);
const searchFocused = (page: Page) => page.evaluate(() => document.activeElement?.getAttribute('data-testid') === 'device-search');

test('keys typed in the editor stay there; closing unsaved changes asks, and drafts survive switching', async ({ mqb }) => {
  const broker = await mqb.embeddedBroker();
  mqb.devices({ url: broker.url, prefix: 'e2e/keys' });
  const { page, ui } = await mqb.app({ profiles: [{ name: 'Test broker', url: broker.url }] });
  await ui.connected();
  await ui.row('e2e/keys').click();
  await page.getByTestId('tab-files').click();
  await expect(page.getByTestId('file-tree')).toBeVisible();
  await dropFile(page, 'main.py', 'x = 1\n');
  await dropFile(page, 'other.py', 'y = 2\n');
  await expect(fileRow(page, '/main.py')).toHaveAttribute('data-size', '6');
  await expect(fileRow(page, '/other.py')).toHaveAttribute('data-size', '6');

  // `/` is text in the editor, and Ctrl+S right after it saves.
  await fileRow(page, '/main.py').getByTestId('row-open').click();
  const editor = page.getByTestId('editor');
  const content = editor.locator('.cm-content');
  await expect(content).toContainText('x = 1');
  await content.click();
  await page.keyboard.press('Control+End');
  await page.keyboard.type('z = 4 / 2');
  expect(await searchFocused(page)).toBe(false);
  await page.keyboard.press('Control+S');
  await expect(editor.getByTestId('editor-status')).toContainText('verified');
  await expect(fileRow(page, '/main.py')).toHaveAttribute('data-size', '15');

  // An unsaved change survives switching tabs and opening another file.
  await content.click();
  await page.keyboard.press('Control+End');
  await page.keyboard.type('  # draft');
  await expect(editor).toHaveAttribute('data-dirty', 'true');
  await page.getByTestId('tab-details').click();
  await page.getByTestId('tab-files').click();
  await expect(editor).toHaveAttribute('data-dirty', 'true');
  await fileRow(page, '/other.py').getByTestId('row-open').click();
  await expect(page.getByTestId('editor')).toHaveAttribute('data-path', '/other.py');
  await fileRow(page, '/main.py').getByTestId('row-open').click();
  await expect(content).toContainText('# draft');
  await expect(editor).toHaveAttribute('data-dirty', 'true');

  // Closing asks: Cancel keeps the editor and the text.
  await editor.getByTestId('editor-close').click();
  const ask = page.getByTestId('unsaved-dialog');
  await expect(ask).toBeVisible();
  await mqb.screenshot(page, 'editor-unsaved-dialog');
  await ask.getByTestId('unsaved-cancel').click();
  await expect(ask).toHaveCount(0);
  await expect(content).toContainText('# draft');
  // Save: written, verified, closed.
  await editor.getByTestId('editor-close').click();
  await ask.getByTestId('unsaved-save').click();
  await expect(page.getByTestId('editor')).toHaveCount(0);
  await expect(fileRow(page, '/main.py')).toHaveAttribute('data-size', '24');
  // Discard: the device's text comes back.
  await fileRow(page, '/main.py').getByTestId('row-open').click();
  await expect(content).toContainText('# draft');
  await content.click();
  await page.keyboard.press('Control+End');
  await page.keyboard.type('lost = True');
  await editor.getByTestId('editor-close').click();
  await ask.getByTestId('unsaved-discard').click();
  await expect(page.getByTestId('editor')).toHaveCount(0);
  await fileRow(page, '/main.py').getByTestId('row-open').click();
  await expect(content).toContainText('# draft');
  await expect(content).not.toContainText('lost');
  await expect(editor).toHaveAttribute('data-dirty', 'false');

  // `/` outside any field still goes to the search.
  await page.getByTestId('tab-details').click();
  await page.getByTestId('tab-details').blur();
  await page.keyboard.press('/');
  expect(await searchFocused(page)).toBe(true);
});

test('list keys work on a fresh page; Reconnect gives the keyboard back to the terminal; Ctrl+Shift+V pastes once', async ({ mqb }) => {
  const broker = await mqb.embeddedBroker();
  mqb.devices({ url: broker.url, prefix: 'e2e/keys-a' });
  mqb.devices({ url: broker.url, prefix: 'e2e/keys-b' });
  const { page, ui } = await mqb.app({ profiles: [{ name: 'Test broker', url: broker.url }] });
  await ui.connected();
  await expect(ui.row('e2e/keys-b')).toHaveAttribute('data-presence', 'online');
  await expect(ui.row('e2e/keys-a')).toHaveAttribute('data-presence', 'online');

  // Nothing has the focus yet: ↓ ↓ Enter opens the second device.
  expect(await page.evaluate(() => document.activeElement === document.body)).toBe(true);
  await page.keyboard.press('ArrowDown');
  await page.keyboard.press('ArrowDown');
  await page.keyboard.press('Enter');
  await expect(page.getByTestId('device-workspace')).toHaveAttribute('data-prefix', 'e2e/keys-b');

  await page.getByTestId('tab-repl').click();
  const tab = page.getByTestId('repl-tab');
  await expect(tab).toHaveAttribute('data-state', 'open');
  const screen = page.getByTestId('repl-terminal');
  await expect(screen.locator('.xterm-rows')).toContainText('›');
  // `/` typed in the terminal is the terminal's.
  await screen.click();
  await page.keyboard.type('6 / 3');
  expect(await searchFocused(page)).toBe(false);
  await page.keyboard.press('Enter');
  await expectResult(page, '6 / 3', '2');

  await page.getByTestId('repl-reconnect').click();
  await expect(screen.locator('textarea')).toBeFocused();
  await expect(tab).toHaveAttribute('data-state', 'open');
  await page.keyboard.type('40 + 2');
  await page.keyboard.press('Enter');
  await expectResult(page, '40 + 2', '42');

  // Ctrl+Shift+V: the clipboard's text arrives once.
  if (page.context().browser()) await page.context().grantPermissions(['clipboard-read', 'clipboard-write']);
  await page.evaluate(() => navigator.clipboard.writeText('"pasted" + "once"'));
  await screen.click();
  await page.keyboard.press('Control+Shift+V');
  await page.keyboard.press('Enter');
  await expectResult(page, '› "pasted" + "once"', "'pastedonce'");
});
