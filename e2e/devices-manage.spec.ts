// Adding a device by prefix, forgetting it, starting simulated devices from the app, and what
// the window says when the broker cannot be reached.
import { expect, test } from './fixtures';

test('add by prefix, forget, and start simulated devices', async ({ mqb }) => {
  const broker = await mqb.embeddedBroker();
  const { page, ui } = await mqb.app({ profiles: [{ name: 'Test broker', url: broker.url }] });
  await ui.connected();

  await page.getByTestId('add-device').click();
  await page.getByTestId('add-device-prefix').fill('manual/board');
  await page.getByTestId('add-device-ok').click();
  await expect(ui.row('manual/board')).toBeVisible();
  await expect(page.getByTestId('device-workspace')).toHaveAttribute('data-prefix', 'manual/board');

  await page.getByTestId('forget-device').click();
  await page.getByTestId('confirm-ok').click();
  await expect(ui.row('manual/board')).toHaveCount(0);
  await expect(page.getByTestId('device-workspace')).toHaveCount(0);

  await page.getByTestId('add-device').click();
  await page.getByTestId('simulate-count').fill('2');
  await page.getByTestId('simulate-start').click();
  await expect(page.locator('[data-testid="device-row"][data-presence="online"]')).toHaveCount(2);
});

test('an unreachable broker is explained in a banner, and tried again by itself', async ({ mqb }) => {
  const { page } = await mqb.app({ profiles: [{ name: 'Nothing here', url: 'mqtt://127.0.0.1:1' }] });
  await expect(page.getByTestId('connection-banner')).toHaveAttribute('data-code', 'refused');
  await expect(page.getByTestId('connection-banner')).toContainText('refused');
  await expect(page.getByTestId('connection-banner')).toContainText(/Retrying in \d+ s/);
  await expect(page.getByTestId('connection-retry')).toBeVisible();
  await mqb.screenshot(page, 'unreachable-light');
});
