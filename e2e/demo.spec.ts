// First run: no settings, so the app starts the embedded broker and the demo fleet.
import { spawnSync } from 'node:child_process';
import { expect, test } from './fixtures';

const hasPython = spawnSync('python3', ['--version'], { stdio: 'ignore' }).status === 0;

test('the demo fleet appears with its banner, a safe-mode device and a crash record', async ({ mqb }) => {
  const { page, ui } = await mqb.app();
  await ui.connected();
  await expect(page.getByTestId('demo-banner')).toBeVisible();
  // The demo's boards boot as processes of their own: on a loaded machine that takes a while.
  await expect(ui.row('greenhouse/climate-1')).toHaveAttribute('data-presence', 'online', { timeout: 45_000 });
  // Seven runtime boards, the battery board that sleeps between wakes, the board running the
  // MicroPython package, and the original board.
  await expect(ui.rows()).toHaveCount(hasPython ? 10 : 9);
  await expect(ui.row('lab/esp32-micropython')).toHaveAttribute('data-presence', 'online', { timeout: 60_000 });
  await expect(ui.row('workshop/compressor').getByTestId('badge-safe')).toBeVisible();
  await expect(ui.row('lab/esp32-proto').getByTestId('badge-crash')).toBeVisible();
  if (hasPython) await expect(ui.row('lab/original-board')).toHaveAttribute('data-presence', 'online');
  await mqb.screenshot(page, 'demo-light');

  await ui.row('lab/esp32-proto').click();
  await expect(page.getByTestId('crash-record')).toHaveCount(1);
  await page.getByTestId('crash-record').locator('summary').click();
  await page.emulateMedia({ colorScheme: 'dark' });
  await mqb.screenshot(page, 'details-crash-dark');

  await ui.row('workshop/compressor').click();
  await expect(page.getByTestId('safe-mode-callout')).toBeVisible();
  await mqb.screenshot(page, 'details-safe-dark');

  await page.getByTestId('connect-real-broker').click();
  await expect(page.getByTestId('profiles-dialog')).toBeVisible();
  await mqb.screenshot(page, 'profiles-dark');
  await page.emulateMedia({ colorScheme: 'light' });
  await mqb.screenshot(page, 'profiles-light');
});
