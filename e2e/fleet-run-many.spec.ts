// Fleet work on the demo: pick five devices in the list, tag them, find them again by the tag,
// run an expression on all five and read the grouped results; the JSON export holds one row
// per device. Then a tag edited in Details, and one file pushed to what the tag still finds. Screenshots at a roomy size and at the window's minimum (900×560).
import { readFileSync } from 'node:fs';
import { expect, test } from './fixtures';

const FIVE = ['greenhouse/climate-1', 'greenhouse/climate-2', 'greenhouse/irrigation', 'workshop/compressor', 'workshop/lathe'];

test('select five demo devices, tag them, filter by the tag, run an expression, export the results', async ({ mqb }) => {
  // The demo's boards boot as processes of their own: on a loaded machine that takes a while.
  test.setTimeout(240_000);
  const { page, ui } = await mqb.app();
  await ui.connected();
  for (const p of FIVE) await expect(ui.row(p)).toHaveAttribute('data-presence', 'online', { timeout: 90_000 });

  // The device's own tags show on its row.
  await expect(ui.row('greenhouse/climate-1').locator('.tag-device[data-tag="greenhouse"]')).toBeVisible();

  // A click on the first, Shift-click on the third selects the three greenhouse boards (name
  // order); Ctrl-click adds the two workshop boards one by one; a plain click only opens.
  await ui.row('greenhouse/climate-1').getByTestId('row-check').click();
  await ui.row('greenhouse/irrigation').click({ modifiers: ['Shift'] });
  await ui.row('workshop/compressor').click({ modifiers: ['ControlOrMeta'] });
  await ui.row('workshop/lathe').getByTestId('row-check').click();
  await expect(page.getByTestId('selection-count')).toHaveText('5');
  for (const p of FIVE) await expect(ui.row(p)).toHaveAttribute('data-selected', 'true');
  await expect(ui.row('lab/esp32-proto')).toHaveAttribute('data-selected', 'false');

  // Tag them in bulk; the user's tag shows on each row, styled apart from the device's own.
  await page.getByTestId('action-tags').click();
  await page.getByTestId('tags-input').fill('batch-7');
  await page.getByTestId('tags-add').click();
  await expect(page.getByTestId('tags-mine').locator('[data-tag="batch-7"]')).toBeVisible();
  await page.getByTestId('tags-done').click();
  for (const p of FIVE) await expect(ui.row(p).locator('.tag-user[data-tag="batch-7"]')).toBeVisible();

  // A selector mistake is marked in place and the list stays as it was.
  await page.getByTestId('device-search').fill('tag:batch-7 fw<two');
  await expect(page.getByTestId('selector-error')).toHaveAttribute('data-at', '15');
  await expect(ui.rows().first()).toBeVisible();
  // The tag finds them again; Escape in the list clears the selection and Ctrl+A selects what is shown.
  await page.getByTestId('device-search').fill('tag:batch-7');
  await expect(page.getByTestId('selector-error')).toHaveCount(0);
  await expect(ui.rows()).toHaveCount(5);
  await ui.list().focus();
  await page.keyboard.press('Escape');
  await expect(page.getByTestId('selection-bar')).toHaveCount(0);
  await page.keyboard.press('ControlOrMeta+a');
  await expect(page.getByTestId('selection-count')).toHaveText('5');
  // Space toggles the cursor row.
  await page.keyboard.press('Home');
  await page.keyboard.press('Space');
  await expect(ui.row('greenhouse/climate-1')).toHaveAttribute('data-selected', 'false');
  await expect(page.getByTestId('selection-count')).toHaveText('4');
  await page.keyboard.press('Space');
  await expect(page.getByTestId('selection-count')).toHaveText('5');

  // The view is saved under a name and comes back with a click.
  await page.getByTestId('save-view').click();
  await page.getByTestId('saved-view-name').fill('Batch 7');
  await page.getByTestId('saved-view-ok').click();
  await page.getByTestId('device-search').fill('');
  await expect(ui.rows()).not.toHaveCount(5);
  await page.locator('[data-testid="saved-view"][data-name="Batch 7"] .view-apply').click();
  await expect(page.getByTestId('device-search')).toHaveValue('tag:batch-7');
  await expect(ui.rows()).toHaveCount(5);
  await mqb.screenshot(page, 'fleet-selected');

  // Run an expression on the five: two groups stream in.
  await page.getByTestId('action-run').click();
  await expect(page.getByTestId('job-target')).toContainText('5 devices');
  await page.getByTestId('run-code').fill('device.prefix.startsWith("greenhouse/") ? "2.5.0" : "2.4.1"');
  await page.getByTestId('run-start').click();
  const results = page.getByTestId('results-dialog');
  await expect(results.getByTestId('job-progress')).toHaveAttribute('data-state', 'done', { timeout: 30_000 });
  const groups = results.getByTestId('result-group');
  await expect(groups).toHaveCount(2);
  await expect(groups.nth(0)).toHaveAttribute('data-count', '3');
  await expect(groups.nth(0)).toContainText('3 devices → ');
  await expect(groups.nth(0)).toContainText('2.5.0');
  await expect(groups.nth(1)).toContainText('2 devices → ');
  await expect(groups.nth(1)).toContainText('2.4.1');
  await mqb.screenshot(page, 'fleet-results-grouped');
  await page.emulateMedia({ colorScheme: 'dark' });
  await mqb.screenshot(page, 'fleet-results-grouped-dark');
  await page.emulateMedia({ colorScheme: 'light' });
  await results.getByTestId('results-table').click();
  await expect(results.getByTestId('result-row')).toHaveCount(5);
  await expect(results.locator('[data-testid="result-row"][data-status="ok"]')).toHaveCount(5);
  await expect(results.getByTestId('job-rerun')).toBeDisabled();

  // The JSON export: one row per device.
  const [download] = await Promise.all([page.waitForEvent('download'), results.getByTestId('export-json').click()]);
  const rows = JSON.parse(readFileSync((await download.path())!, 'utf8')) as Array<{ prefix: string; ok: boolean; output: string }>;
  expect(rows).toHaveLength(5);
  expect(rows.map((r) => r.prefix).sort()).toEqual(FIVE);
  expect(rows.every((r) => r.ok)).toBe(true);

  // Failures are grouped by their error and can be re-run; the re-run's table keeps all five.
  await results.getByRole('button', { name: 'Close' }).click();
  await page.getByTestId('action-run').click();
  await page.getByTestId('run-code').fill('if (device.prefix.startsWith("workshop/")) throw new Error("no pump here"); 42');
  await page.getByTestId('run-start').click();
  await expect(results.getByTestId('job-progress')).toHaveAttribute('data-state', 'done', { timeout: 30_000 });
  await expect(results.locator('[data-testid="result-group"][data-status="ok"]')).toHaveAttribute('data-count', '3');
  await expect(results.locator('[data-testid="result-group"][data-status="error"]')).toHaveAttribute('data-count', '2');
  await expect(results.locator('[data-testid="result-group"][data-status="error"]')).toContainText('no pump here');
  await expect(results.getByTestId('job-rerun')).toHaveText('Re-run 2 failed');
  await results.getByTestId('job-rerun').click();
  await expect(results.getByTestId('job-progress')).toHaveAttribute('data-state', 'done', { timeout: 30_000 });
  await expect(results.getByTestId('job-progress')).toHaveAttribute('data-total', '2');
  await results.getByTestId('results-table').click();
  await expect(results.getByTestId('result-row')).toHaveCount(5);
  await expect(results.locator('[data-testid="result-row"][data-status="error"]')).toHaveCount(2);
  await results.getByTestId('results-not-ok').check();
  await expect(results.getByTestId('result-row')).toHaveCount(2);

  await page.setViewportSize({ width: 900, height: 560 });
  await mqb.screenshot(page, 'min-fleet-results');
  await results.getByRole('button', { name: 'Close' }).click();
  await mqb.screenshot(page, 'min-fleet-selected');
  await page.setViewportSize({ width: 1400, height: 860 });

  // A plain click opens the device; its Details edit the user's tags, and the row follows.
  await ui.row('workshop/lathe').click();
  const tags = page.getByTestId('device-details').getByTestId('detail-tags');
  await expect(tags.locator('.tag-device[data-tag="machine"]')).toBeVisible();
  await expect(tags.locator('.tag-user[data-tag="batch-7"]')).toBeVisible();
  await tags.getByTestId('detail-tag-input').fill('spare');
  await tags.getByTestId('detail-tag-input').press('Enter');
  await expect(tags.locator('.tag-user[data-tag="spare"]')).toBeVisible();
  await tags.locator('.tag-user[data-tag="batch-7"]').getByTestId('detail-tag-remove').click();
  await expect(ui.row('workshop/lathe')).toHaveCount(0); // no longer tag:batch-7
  await expect(ui.rows()).toHaveCount(4);
  await mqb.screenshot(page, 'fleet-details-tags');

  // Push one file to the four still selected and shown: staged once, written and verified on each.
  await page.getByTestId('selection-clear').click();
  await page.getByTestId('select-all').check();
  await expect(page.getByTestId('selection-count')).toHaveText('4');
  await page.getByTestId('action-put').click();
  await page.getByTestId('put-input').setInputFiles({ name: 'greeting.txt', mimeType: 'text/plain', buffer: Buffer.from('hello from the fleet\n') });
  await expect(page.getByTestId('put-file')).toContainText('greeting.txt');
  await expect(page.getByTestId('put-path')).toHaveValue('/greeting.txt');
  await page.getByTestId('put-start').click();
  await expect(results.getByTestId('job-progress')).toHaveAttribute('data-state', 'done', { timeout: 60_000 });
  await expect(results.getByTestId('result-group')).toHaveCount(1);
  await expect(results.getByTestId('result-group')).toHaveAttribute('data-status', 'ok');
  await expect(results.getByTestId('result-group')).toHaveAttribute('data-count', '4');
  await mqb.screenshot(page, 'fleet-put-results');

  // Pushed again as a sync with a second file: the copy each device already holds is left alone.
  await results.getByRole('button', { name: 'Close' }).click();
  await page.getByTestId('action-put').click();
  await page.getByTestId('put-input').setInputFiles([
    { name: 'greeting.txt', mimeType: 'text/plain', buffer: Buffer.from('hello from the fleet\n') },
    { name: 'second.txt', mimeType: 'text/plain', buffer: Buffer.from('and another\n') },
  ]);
  await expect(page.getByTestId('put-file')).toContainText('2 files');
  await expect(page.getByTestId('put-path')).toHaveValue('/');
  await page.getByTestId('put-only-changed').check();
  await page.getByTestId('put-start').click();
  await expect(results.getByTestId('job-progress')).toHaveAttribute('data-state', 'done', { timeout: 60_000 });
  await expect(results.getByTestId('result-group')).toHaveCount(1);
  await expect(results.getByTestId('result-group')).toHaveAttribute('data-count', '4');
  await expect(results.getByTestId('result-group')).toContainText('/greeting.txt: unchanged');

  // Reset asks first, naming how many devices restart.
  await results.getByRole('button', { name: 'Close' }).click();
  await page.getByTestId('selection-clear').click();
  await ui.row('greenhouse/irrigation').getByTestId('row-check').click();
  await page.getByTestId('action-reset').click();
  await page.getByTestId('reset-mode-soft').check();
  await page.getByTestId('reset-next').click();
  await expect(page.getByTestId('reset-confirm-text')).toContainText('1 device will restart the runtime in the same mode');
  await page.getByTestId('reset-confirm').click();
  await expect(results.getByTestId('job-progress')).toHaveAttribute('data-state', 'done', { timeout: 60_000 });
  await expect(results.locator('[data-testid="result-group"][data-status="ok"]')).toHaveAttribute('data-count', '1');
});

test('a command for the sleeping battery board waits in the queue and runs when it wakes', async ({ mqb }) => {
  test.setTimeout(240_000);
  const P = 'field/soil-probe';
  const { page, ui } = await mqb.app();
  await ui.connected();
  // Queue only while it sleeps: awake, the command would simply run.
  await expect(ui.row(P)).toHaveAttribute('data-presence', 'offline', { timeout: 120_000 });
  await page.getByTestId('device-search').fill('tag:battery');
  await expect(ui.rows()).toHaveCount(1);
  await ui.row(P).getByTestId('row-check').click();
  await page.getByTestId('action-run').click();
  await expect(page.getByTestId('job-target')).toContainText('not online');
  await page.getByTestId('run-code').fill('"awake at last"');
  await page.getByTestId('job-queue-offline').check();
  await page.getByTestId('run-start').click();
  const results = page.getByTestId('results-dialog');
  await expect(results.locator('[data-testid="result-group"][data-status="queued"]')).toHaveAttribute('data-count', '1');
  await mqb.screenshot(page, 'fleet-queued');
  await results.getByRole('button', { name: 'Close' }).click();

  // Its workspace lists what waits for it, until it has run.
  await ui.row(P).click();
  const queued = page.getByTestId('queued-commands');
  await expect(queued.getByTestId('queued-command')).toContainText('"awake at last"');
  await mqb.screenshot(page, 'fleet-queued-details');
  await page.getByTestId('open-results').click();
  await expect(results.locator('[data-testid="result-group"][data-status="ok"]')).toContainText('awake at last', { timeout: 90_000 });
});
