// Search, filters, grouping and the keyboard on the demo fleet.
import { expect, test } from './fixtures';

test('search, filter, group and keyboard navigation', async ({ mqb }) => {
  const { page, ui } = await mqb.app();
  await ui.connected();
  // Demo boards take longer to boot on a loaded machine than the default wait.
  await expect(ui.row('workshop/lathe')).toBeVisible({ timeout: 45_000 });

  // `/` focuses the search from anywhere.
  await page.locator('body').press('/');
  await expect(page.getByTestId('device-search')).toBeFocused();
  await page.keyboard.type('greenhouse');
  await expect(ui.rows()).toHaveCount(3);
  await page.keyboard.type(' irrig');
  await expect(ui.rows()).toHaveCount(1);
  await expect(ui.row('greenhouse/irrigation')).toBeVisible();
  await page.getByTestId('device-search').fill('');

  await page.getByTestId('filter-safe').click();
  await expect(ui.rows()).toHaveCount(1);
  await expect(ui.row('workshop/compressor')).toBeVisible();
  await page.getByTestId('filter-crash').click();
  await expect(ui.rows()).toHaveCount(1);
  await expect(ui.row('lab/esp32-proto')).toBeVisible();
  await page.getByTestId('filter-online').click();
  await expect(ui.row('workshop/compressor')).toBeVisible();
  await page.getByTestId('filter-all').click();

  await page.getByTestId('group-by-prefix').check();
  await expect(page.locator('[data-testid="group-row"][data-group="greenhouse"]')).toContainText('3');
  await expect(page.locator('[data-testid="group-row"][data-group="workshop"]')).toContainText('2');
  await mqb.screenshot(page, 'grouped-light');
  await page.getByTestId('group-by-prefix').uncheck();

  // Arrows move the cursor, Enter opens the workspace.
  await ui.list().focus();
  await page.keyboard.press('Home');
  await page.keyboard.press('ArrowDown');
  const second = await ui.rows().nth(1).getAttribute('data-prefix');
  await expect(ui.rows().nth(1)).toHaveAttribute('aria-selected', 'true');
  await page.keyboard.press('Enter');
  await expect(page.getByTestId('device-workspace')).toHaveAttribute('data-prefix', second!);
});
