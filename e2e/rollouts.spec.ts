// Rollouts and the fleet overview in the demo: the crashing example bundle stops itself after the
// canary (rolled back, reporting its previous version, no other device touched); the good bundle
// with "only outdated" updates exactly the devices not already on it; the overview's firmware
// bars select their devices, and "Roll out…" plans for them. Screenshots of the planner, a
// running and a paused rollout and the charts (also at the window's minimum size) go to
// e2e/artifacts/screens/.
import { spawnSync } from 'node:child_process';
import type { Locator, Page } from '@playwright/test';
import { expect, test } from './fixtures';

const hasPython = spawnSync('python3', ['--version'], { stdio: 'ignore' }).status === 0;
const GREENHOUSE = ['greenhouse/climate-1', 'greenhouse/climate-2', 'greenhouse/irrigation'];
const MIN = { width: 900, height: 560 };
/** An update takes a transfer, a reboot and the demo's all-OK (5 s at the harness's pace); a failing trial boot a little more. */
const UPDATE_MS = 120_000;

/** Each device's firmware as its list row shows it. */
async function firmwareOf(row: Locator): Promise<string> {
  const text = await row.innerText();
  return /fw\s*(\S+)/.exec(text)?.[1] ?? '';
}

async function firmwareSnapshot(page: Page): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const row of await page.getByTestId('device-row').all()) out.set((await row.getAttribute('data-prefix'))!, await firmwareOf(row));
  return out;
}

/**
 * The demo fleet listed, the greenhouse online and the original board's firmware known. The flaky
 * weather station may not have shown up yet (it comes and goes), so at least the others must be
 * there before firmware is compared.
 */
async function demoReady(ui: { row(p: string): Locator; rows(): Locator; connected(): Promise<void> }) {
  await ui.connected();
  await expect.poll(() => ui.rows().count(), { timeout: 60_000 }).toBeGreaterThanOrEqual(hasPython ? 8 : 7);
  for (const p of GREENHOUSE) await expect(ui.row(p)).toHaveAttribute('data-presence', 'online', { timeout: 60_000 });
  await expect(ui.row('greenhouse/climate-1')).toContainText('2.4.1');
  // The original board names its firmware only once the app has heard it boot or probed it:
  // compared before that, its firmware would seem to change under the rollout.
  if (hasPython) await expect.poll(() => firmwareOf(ui.row('lab/original-board')), { timeout: 60_000 }).not.toBe('');
}

/** Fills the planner: an example bundle, a selector, waves; a short soak keeps the test quick. */
async function plan(page: Page, o: { example: string; selector: string; waves: string; onlyOutdated?: boolean }) {
  // The view may still be open on the last rollout; the top bar's button would close it.
  if (!(await page.getByTestId('rollouts').isVisible())) await page.getByTestId('open-rollouts').click();
  await page.getByTestId('rollouts-new').click();
  const planner = page.getByTestId('rollout-planner');
  await planner.locator(`[data-testid="rollout-example"][data-name="${o.example}"]`).click();
  await planner.getByTestId('rollout-target-selector').click();
  await planner.getByTestId('rollout-selector').fill(o.selector);
  await planner.getByTestId('rollout-waves').fill(o.waves);
  await planner.getByTestId('rollout-soak').fill('5');
  await planner.getByTestId('rollout-only-outdated').setChecked(o.onlyOutdated ?? true);
  await planner.getByTestId('rollout-review').click();
  await expect(planner.getByTestId('rollout-plan')).toBeVisible();
  return planner;
}

test('a rollout of the crashing bundle pauses after the canary, which is rolled back; no other device changes', async ({ mqb }) => {
  test.setTimeout(UPDATE_MS + 120_000);
  const { page, ui } = await mqb.app();
  await demoReady(ui);
  const before = await firmwareSnapshot(page);

  const planner = await plan(page, { example: 'greenhouse-2.6.0-crashes', selector: 'tag:greenhouse', waves: '1,100%' });
  const waves = planner.getByTestId('plan-wave');
  await expect(waves).toHaveCount(2);
  await expect(waves.nth(0)).toHaveAttribute('data-count', '1');
  await expect(waves.nth(1)).toHaveAttribute('data-count', '2');
  await mqb.screenshot(page, 'rollout-plan');
  const canary = (await waves.nth(0).getByTestId('plan-device').first().getAttribute('data-prefix'))!;
  expect(GREENHOUSE).toContain(canary);

  await planner.getByTestId('rollout-start').click();
  const detail = page.getByTestId('rollout-detail');
  await expect(detail).toBeVisible();
  await expect(page.getByTestId('rollouts-badge')).toHaveText('1');
  const canaryRow = detail.locator(`[data-testid="rollout-device"][data-prefix="${canary}"]`);
  await expect(canaryRow).toHaveAttribute('data-state', /sending|rebooting|verifying|soaking/, { timeout: 30_000 });
  await mqb.screenshot(page, 'rollout-running');

  await expect(page.getByTestId('rollout-paused')).toBeVisible({ timeout: UPDATE_MS });
  await expect(detail).toHaveAttribute('data-state', 'paused');
  await expect(canaryRow).toHaveAttribute('data-state', 'rolled-back');
  // It reports the version it had before, and the gate says which check failed.
  await expect(canaryRow.getByTestId('rollout-device-version')).toContainText(before.get(canary)!);
  await expect(canaryRow.getByTestId('rollout-device-version')).not.toContainText('2.6.0');
  await expect(canaryRow.locator('[data-testid="gate-check"][data-state="failed"]')).not.toHaveCount(0);
  await expect(ui.row(canary)).toContainText(before.get(canary)!);
  await expect(page.getByTestId('rollouts-badge')).toHaveAttribute('data-paused', 'true');
  await mqb.screenshot(page, 'rollout-paused');
  await page.emulateMedia({ colorScheme: 'dark' });
  await mqb.screenshot(page, 'rollout-paused-dark');
  await page.emulateMedia({ colorScheme: 'light' });
  const full = page.viewportSize()!;
  await page.setViewportSize(MIN);
  await expect(page.getByTestId('rollout-paused')).toBeVisible();
  await mqb.screenshot(page, 'min-rollout-paused');
  expect(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth)).toBe(true);
  await page.setViewportSize(full);

  // The second wave never started.
  for (const p of GREENHOUSE.filter((x) => x !== canary)) await expect(detail.locator(`[data-testid="rollout-device"][data-prefix="${p}"]`)).toHaveAttribute('data-state', 'pending');

  await page.getByTestId('rollout-abort').click();
  await page.getByTestId('confirm-ok').click();
  await expect(detail).toHaveAttribute('data-state', 'aborted');
  await expect(page.getByTestId('rollouts-badge')).toHaveCount(0);
  for (const p of GREENHOUSE.filter((x) => x !== canary)) await expect(detail.locator(`[data-testid="rollout-device"][data-prefix="${p}"]`)).toHaveAttribute('data-state', /pending|cancelled/);

  // No device in the fleet reports another firmware than before.
  const after = await firmwareSnapshot(page);
  for (const [p, fw] of before) expect(after.get(p), p).toBe(fw);

  await page.getByTestId('rollouts-history').click();
  await expect(page.getByTestId('history-item')).toHaveCount(1);
  await expect(page.getByTestId('history-item').first()).toHaveAttribute('data-state', 'aborted');
});

test('a rollout of the good bundle to outdated devices only updates exactly those', async ({ mqb }) => {
  test.setTimeout(UPDATE_MS * 3 + 60_000);
  const { page, ui } = await mqb.app();
  await demoReady(ui);
  const before = await firmwareSnapshot(page);

  // First one device gets 2.5.0 on its own…
  let planner = await plan(page, { example: 'greenhouse-2.5.0', selector: 'greenhouse/climate-1', waves: '100%' });
  await planner.getByTestId('rollout-start').click();
  let detail = page.getByTestId('rollout-detail');
  await expect(detail).toHaveAttribute('data-state', 'done', { timeout: UPDATE_MS });
  await expect(ui.row('greenhouse/climate-1')).toContainText('2.5.0');

  // …then the greenhouse, outdated only: climate-1 is skipped as already on it.
  planner = await plan(page, { example: 'greenhouse-2.5.0', selector: 'tag:greenhouse', waves: '1,100%', onlyOutdated: true });
  await expect(planner.locator('[data-testid="plan-skipped-device"][data-prefix="greenhouse/climate-1"]')).toBeVisible();
  const planned = await planner.getByTestId('plan-device').evaluateAll((els) => els.map((e) => e.getAttribute('data-prefix')).sort());
  expect(planned).toEqual(['greenhouse/climate-2', 'greenhouse/irrigation']);
  await planner.getByTestId('rollout-start').click();
  detail = page.getByTestId('rollout-detail');
  await expect(detail).toHaveAttribute('data-state', 'done', { timeout: UPDATE_MS * 2 });
  for (const p of ['greenhouse/climate-2', 'greenhouse/irrigation']) {
    const row = detail.locator(`[data-testid="rollout-device"][data-prefix="${p}"]`);
    await expect(row).toHaveAttribute('data-state', 'updated');
    await expect(row.getByTestId('rollout-device-version')).toContainText(`${before.get(p)} → 2.5.0`);
    await expect(row.locator('[data-testid="gate-check"][data-state="passed"]')).toHaveCount(4);
  }
  await mqb.screenshot(page, 'rollout-done');

  // Exactly the greenhouse changed, to 2.5.0; every other device reports what it did before.
  const after = await firmwareSnapshot(page);
  for (const [p, fw] of before) expect(after.get(p), p).toBe(GREENHOUSE.includes(p) ? '2.5.0' : fw);
});

test('the overview charts firmware versions, and a bar selects its devices', async ({ mqb }) => {
  const { page, ui } = await mqb.app();
  await demoReady(ui);
  const overview = page.getByTestId('overview');
  await expect(overview.getByTestId('chart-firmware').locator('canvas')).toBeVisible();
  const bar = overview.locator('[data-testid="firmware-bar"][data-firmware="2.4.1"]');
  await expect(bar).toHaveAttribute('data-count', '3');
  await bar.click();
  const selected = await page.locator('[data-testid="device-row"][data-selected="true"]').evaluateAll((els) => els.map((e) => e.getAttribute('data-prefix')).sort());
  expect(selected).toEqual(['field/soil-probe', 'greenhouse/climate-1', 'greenhouse/climate-2']);
  // The canvas itself takes clicks too: the first bar is the oldest version.
  await page.getByTestId('selection-clear').click();
  const canvasBox = (await overview.getByTestId('chart-firmware').locator('.u-over').boundingBox())!;
  const bars = await overview.getByTestId('firmware-bar').count();
  await page.mouse.click(canvasBox.x + canvasBox.width / bars / 2, canvasBox.y + canvasBox.height - 4);
  const oldest = await overview.getByTestId('firmware-bar').first().getAttribute('data-count');
  await expect(page.locator('[data-testid="device-row"][data-selected="true"]')).toHaveCount(Number(oldest));

  await expect(overview.getByTestId('chart-online').locator('canvas')).toBeVisible({ timeout: 45_000 });
  await mqb.screenshot(page, 'overview-charts');
  await page.emulateMedia({ colorScheme: 'dark' });
  await mqb.screenshot(page, 'overview-charts-dark');
  await page.setViewportSize(MIN);
  await expect(overview.getByTestId('chart-firmware').locator('canvas')).toBeVisible();
  await mqb.screenshot(page, 'min-overview-charts-dark');
  expect(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth)).toBe(true);
  // The selection bar's "Roll out…" opens the planner on the devices a bar selected.
  await page.getByTestId('selection-clear').click();
  await overview.locator('[data-testid="firmware-bar"][data-firmware="2.4.1"]').click();
  await page.getByTestId('action-rollout').click();
  await expect(page.getByTestId('rollout-planner')).toBeVisible();
  await expect(page.getByTestId('rollout-target-count')).toHaveText(/^3 devices: /);
  await mqb.screenshot(page, 'min-rollout-planner-dark');
  expect(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth)).toBe(true);
});
