// 2,000 simulated devices (three device processes, each device with its own MQTT connection):
// the list shows them all, keeps only the visible rows in the DOM, and search, filter and
// keyboard navigation still work while status updates stream in.
import { expect, test } from './fixtures';

test('the list stays responsive with 2,000 devices', async ({ mqb }) => {
  test.setTimeout(180_000);
  const broker = await mqb.embeddedBroker();
  mqb.devices({ url: broker.url, prefix: 'scale/a', fleet: 999 });
  mqb.devices({ url: broker.url, prefix: 'scale/b', fleet: 999 });
  mqb.devices({ url: broker.url, prefix: 'scale/c', fleet: 2 });
  const { page, ui } = await mqb.app({ profiles: [{ name: 'Scale broker', url: broker.url }] });
  await ui.connected();
  await expect(page.getByTestId('filter-all').locator('.count')).toHaveText('2000', { timeout: 120_000 });
  await expect(page.getByTestId('filter-online').locator('.count')).toHaveText('2000', { timeout: 60_000 });

  // Virtualized: a screenful of rows in the DOM, not 2,000.
  const rendered = await ui.rows().count();
  expect(rendered).toBeGreaterThan(5);
  expect(rendered).toBeLessThan(80);

  await ui.list().focus();
  await page.keyboard.press('End');
  await expect(ui.row('scale/c/002')).toHaveAttribute('aria-selected', 'true');
  await page.keyboard.press('Home');
  await expect(ui.row('scale/a/001')).toHaveAttribute('aria-selected', 'true');

  await page.getByTestId('device-search').fill('scale/b/77');
  await expect(ui.rows()).toHaveCount(10); // scale/b/770…779
  await page.getByTestId('device-search').fill('');
  await page.getByTestId('filter-offline').click();
  await expect(page.getByTestId('list-empty')).toBeVisible();
  await page.getByTestId('filter-all').click();
  await expect(ui.row('scale/a/001')).toBeVisible();
  await mqb.screenshot(page, 'scale-2000');
});
