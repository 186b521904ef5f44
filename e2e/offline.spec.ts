// A device whose process dies goes offline in the list within its keepalive (the broker
// publishes its Last Will), and says so in words.
import { expect, test } from './fixtures';

/** The device runtime's MQTT keepalive; a broker must notice a silent client within 1.5x. */
const DEVICE_KEEPALIVE_S = 30;

test('killing a device process turns it offline within its keepalive', async ({ mqb }) => {
  const broker = await mqb.embeddedBroker();
  const dev = mqb.devices({ url: broker.url, prefix: 'e2e/victim' });
  mqb.devices({ url: broker.url, prefix: 'e2e/survivor' });
  const { page, ui } = await mqb.app({ profiles: [{ name: 'Test broker', url: broker.url }], colorScheme: 'dark' });
  await ui.connected();
  await expect(ui.row('e2e/victim')).toHaveAttribute('data-presence', 'online');
  await expect(ui.row('e2e/survivor')).toHaveAttribute('data-presence', 'online');

  await dev.kill('SIGKILL');
  await expect(ui.row('e2e/victim')).toHaveAttribute('data-presence', 'offline', { timeout: DEVICE_KEEPALIVE_S * 1500 });
  await expect(ui.row('e2e/victim').getByTestId('presence')).toContainText('Offline');
  await expect(ui.row('e2e/survivor')).toHaveAttribute('data-presence', 'online');
  await ui.row('e2e/victim').click();
  await expect(page.getByTestId('detail-presence')).toContainText('Offline');
  await mqb.screenshot(page, 'offline-dark');
});
