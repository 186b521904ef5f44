// A switch to a new profile that fails on its first attempt (TLS against a plain broker) still
// makes it the profile in use, as the host records it: the top bar, the profile list and the
// saved settings all name the new broker, never the previous one.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { expect, test } from './fixtures';

test('after a failed "Save and connect" the top bar, the list and the settings agree', async ({ mqb }) => {
  const broker = await mqb.embeddedBroker();
  const { page, ui, settingsDir } = await mqb.app({ profiles: [{ name: 'First broker', url: broker.url }] });
  await ui.connected();
  await expect(page.getByTestId('broker-name')).toHaveText('First broker');

  await page.getByTestId('open-connections').click();
  await page.getByTestId('profile-new').click();
  await page.getByTestId('profile-name').fill('Second broker');
  // TLS to a plain MQTT port: the handshake fails, which the host does not retry.
  await page.getByTestId('profile-url').fill(broker.url.replace('mqtt://', 'mqtts://'));
  await page.getByTestId('profile-connect').click();
  await expect(page.getByTestId('profile-error')).toBeVisible({ timeout: 30_000 });

  const settings = JSON.parse(readFileSync(path.join(settingsDir, 'settings.json'), 'utf8')) as { active: string; profiles: { id: string; name: string }[] };
  const active = settings.profiles.find((p) => p.id === settings.active)?.name;
  expect(active).toBe('Second broker');
  await expect(page.getByTestId('broker-name')).toHaveText('Second broker');
  await expect(page.locator('[data-testid="profile-item"][data-name="Second broker"]')).toContainText('in use');
  await expect(page.locator('[data-testid="profile-item"][data-name="First broker"]')).not.toContainText('in use');
});
