// Rollouts of MicroPython firmware to the demo's original board (the simulator running the original
// MQBoard code): the planner offers the example firmware images apart from the app bundles and
// says which of the chosen devices can take each; the plan names the image's kind and skips the
// runtime device beside the board, saying why; the panicking image stops the rollout at the
// canary, where the board's own bootloader took it back to the build it ran. Screenshots of the
// planner and the paused rollout (also at the window's minimum size) go to e2e/artifacts/screens/.
import { spawnSync } from 'node:child_process';
import { expect, test } from './fixtures';

const hasPython = spawnSync('python3', ['--version'], { stdio: 'ignore' }).status === 0;
const BOARD = 'lab/original-board';
const BESIDE = 'lab/esp32-proto';
const MIN = { width: 900, height: 560 };

test.skip(!hasPython, 'python3 is missing: the demo starts its original board only with it (apt-get install python3)');

test('the panicking firmware example stops at the original board, which its bootloader rolls back; the runtime device is skipped', async ({ mqb }) => {
  // The demo's devices take a while to start on a busy machine; the rollout itself is quick.
  test.setTimeout(150_000);
  const { page, ui } = await mqb.app();
  await ui.connected();
  // The board booted before the app connected: its build is known only from its next boot greeting.
  await expect(ui.row(BOARD)).toHaveAttribute('data-presence', 'online', { timeout: 60_000 });
  await expect(ui.row(BESIDE)).toBeVisible({ timeout: 60_000 });

  await page.getByTestId('open-rollouts').click();
  await page.getByTestId('rollouts-new').click();
  const planner = page.getByTestId('rollout-planner');
  await planner.getByTestId('rollout-target-selector').click();
  // The lab's two runtime boards less the one running the MicroPython package (rollouts leave it out).
  await planner.getByTestId('rollout-selector').fill('lab/* -tag:micropython');
  // Each kind of example says how many of the chosen devices can take it.
  const firmware = planner.locator('[data-testid="rollout-example-group"][data-kind="firmware"]');
  await expect(firmware.getByTestId('rollout-example-fit')).toHaveText('for original MQBoard boards: 1 of the 2 devices');
  await expect(planner.locator('[data-testid="rollout-example-group"][data-kind="bundle"]').getByTestId('rollout-example-fit')).toHaveText(
    'for devices running the MQBoard runtime: 1 of the 2 devices',
  );
  await expect(firmware.getByTestId('rollout-example')).toHaveCount(2);
  await firmware.locator('[data-testid="rollout-example"][data-name="micropython-v1.14-mqboard-panics"]').click();
  await planner.getByTestId('rollout-waves').fill('1,100%');
  await planner.getByTestId('rollout-soak').fill('5');
  await planner.getByTestId('rollout-online-within').fill('30');
  await planner.getByTestId('rollout-review').click();

  await expect(planner.getByTestId('plan-kind')).toHaveText('MicroPython firmware');
  await expect(planner.getByTestId('plan-fit')).toHaveText(
    'MicroPython firmware, for original MQBoard boards: 1 of the 2 chosen devices can take it; the other takes app bundles and is skipped.',
  );
  await expect(planner.getByTestId('plan-device')).toHaveCount(1);
  await expect(planner.getByTestId('plan-device')).toHaveAttribute('data-prefix', BOARD);
  await expect(planner.locator(`[data-testid="plan-skipped-device"][data-prefix="${BESIDE}"]`)).toContainText('the MQBoard runtime takes app bundles, not ESP32 firmware');
  await mqb.screenshot(page, 'rollout-original-plan');

  await planner.getByTestId('rollout-start').click();
  const detail = page.getByTestId('rollout-detail');
  const canary = detail.locator(`[data-testid="rollout-device"][data-prefix="${BOARD}"]`);
  await expect(page.getByTestId('rollout-paused')).toBeVisible({ timeout: 60_000 });
  await expect(canary).toHaveAttribute('data-state', 'rolled-back');
  // It booted the new build (the gate saw it), panicked before its all-OK, and is back on the old one.
  await expect(canary.locator('[data-testid="gate-check"][data-state="failed"]')).not.toHaveCount(0);
  await expect(canary.getByTestId('rollout-device-version')).toContainText('v1.12-mqboard');
  await expect(ui.row(BOARD)).toContainText('v1.12-mqboard');
  await mqb.screenshot(page, 'rollout-original-paused');
  await page.setViewportSize(MIN);
  await expect(page.getByTestId('rollout-paused')).toBeVisible();
  await mqb.screenshot(page, 'min-rollout-original-paused');
  expect(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth)).toBe(true);

  await page.getByTestId('rollout-abort').click();
  await page.getByTestId('confirm-ok').click();
  await expect(detail).toHaveAttribute('data-state', 'aborted');
});
