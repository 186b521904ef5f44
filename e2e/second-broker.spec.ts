// A second broker (a real Mosquitto) is added as a profile from the UI, tested, and connected
// to without a restart: its devices replace the demo fleet.
import net from 'node:net';
import { expect, test } from './fixtures';
import { mosquittoMissingReason } from '../testing/brokers';

test('a Mosquitto broker added as a profile shows its devices', async ({ mqb }) => {
  test.skip(mosquittoMissingReason !== undefined, 'needs a real Mosquitto: apt-get install mosquitto (CI installs it)');
  const mosquitto = await mqb.mosquitto();
  mqb.devices({ url: mosquitto.url, prefix: 'plant', fleet: 3 });
  const { page, ui } = await mqb.app();
  await ui.connected();
  await expect(page.getByTestId('demo-banner')).toBeVisible();

  await page.getByTestId('open-connections').click();
  await page.getByTestId('profile-new').click();
  await page.getByTestId('profile-name').fill('Plant Mosquitto');
  await page.getByTestId('profile-url').fill(mosquitto.url);
  await page.getByTestId('profile-test').click();
  await expect(page.getByTestId('profile-test-result')).toHaveAttribute('data-ok', 'true');

  // A wrong port is refused, in those words.
  await page.getByTestId('profile-url').fill('mqtt://127.0.0.1:1');
  await page.getByTestId('profile-test').click();
  await expect(page.getByTestId('profile-test-result')).toHaveAttribute('data-code', 'refused');

  // A peer that accepts the connection and never answers: the test runs until cancelled.
  const silent = net.createServer(() => {});
  await new Promise<void>((r) => silent.listen(0, '127.0.0.1', () => r()));
  try {
    await page.getByTestId('profile-url').fill(`mqtt://127.0.0.1:${(silent.address() as net.AddressInfo).port}`);
    await page.getByTestId('profile-test').click();
    await expect(page.getByTestId('profile-test')).toHaveText('Cancel test');
    await page.getByTestId('profile-test').click();
    await expect(page.getByTestId('profile-test')).toHaveText('Test connection');
    await expect(page.getByTestId('profile-test-result')).toHaveCount(0);
  } finally {
    silent.close();
  }
  await page.getByTestId('profile-url').fill(mosquitto.url);

  await page.getByTestId('profile-connect').click();
  await expect(page.getByTestId('profiles-dialog')).toBeHidden();
  await expect(page.getByTestId('broker-name')).toHaveText('Plant Mosquitto');
  await ui.connected();
  for (const p of ['plant/001', 'plant/002', 'plant/003']) await expect(ui.row(p)).toHaveAttribute('data-presence', 'online');
  await expect(ui.row('greenhouse/climate-1')).toHaveCount(0);
  await expect(page.getByTestId('demo-banner')).toBeHidden();
});
