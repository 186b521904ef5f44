// Reset into safe mode from the workspace (with confirmation): the list shows the safe-mode
// badge once the device is back, and resetting to normal removes it.
import { expect, test } from './fixtures';

test('reset into safe mode shows the badge, and back to normal', async ({ mqb }) => {
  const broker = await mqb.embeddedBroker();
  // Supervised, as users run it: the reset restarts the runtime child under the supervisor.
  mqb.devices({ url: broker.url, prefix: 'e2e/board' });
  const { page, ui } = await mqb.app({ profiles: [{ name: 'Test broker', url: broker.url }] });
  await ui.connected();
  const row = ui.row('e2e/board');
  await expect(row).toHaveAttribute('data-presence', 'online');
  await expect(row).toHaveAttribute('data-mode', 'normal');
  await row.click();

  await page.getByTestId('reset-safe').click();
  await expect(page.getByTestId('confirm-dialog')).toBeVisible();
  await page.getByTestId('confirm-ok').click();
  await expect(row).toHaveAttribute('data-mode', 'safe');
  await expect(row).toHaveAttribute('data-presence', 'online');
  await expect(row.getByTestId('badge-safe')).toBeVisible();
  await expect(page.getByTestId('detail-badge-safe')).toBeVisible();
  // The reboot is logged on P/log and shows in the details' recent log.
  await expect(page.getByTestId('recent-log').getByTestId('log-line').first()).toBeVisible();
  await mqb.screenshot(page, 'safe-mode-light');

  await page.getByTestId('reset-normal').click();
  await page.getByTestId('confirm-ok').click();
  await expect(row).toHaveAttribute('data-mode', 'normal');
  await expect(row.getByTestId('badge-safe')).toHaveCount(0);
});
