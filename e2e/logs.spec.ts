// Live colour logs (issue 5): lines appear live and coloured by level, the level filter and
// search (with highlight) work, pause counts what arrives meanwhile, crash records show their
// stack, and everything stored is still there after the app restarts. Lines are published on
// the device's `P/log` topic by the test itself, so the spec knows exactly what to expect.
import mqtt, { type MqttClient } from 'mqtt';
import type { Locator, Page } from '@playwright/test';
import { expect, test } from './fixtures';

const PREFIX = 'e2e/logger';

function publisher(url: string): Promise<MqttClient> {
  return new Promise((resolve, reject) => {
    const c = mqtt.connect(url, { clientId: `e2e-log-${process.pid}`, reconnectPeriod: 0 });
    c.once('connect', () => resolve(c));
    c.once('error', reject);
  });
}

async function log(c: MqttClient, lines: string[]) {
  for (const l of lines) await c.publishAsync(`${PREFIX}/log`, l, { qos: 1 });
}

const row = (page: Page, text: string): Locator => page.getByTestId('log-row').filter({ hasText: text });

async function openLogsTab(page: Page, ui: { row(p: string): Locator }) {
  await ui.row(PREFIX).click();
  await page.getByTestId('tab-logs').click();
  await expect(page.getByTestId('log-view').filter({ visible: true })).toHaveAttribute('data-scope', PREFIX);
}

test('live colour logs: filter, search, pause, crash stack, fleet view, and history after a restart', async ({ mqb }) => {
  const broker = await mqb.embeddedBroker();
  mqb.devices({ url: broker.url, prefix: PREFIX });
  const pub = await publisher(broker.url);
  try {
    const first = await mqb.app({ profiles: [{ name: 'Logs broker', url: broker.url }] });
    const { page, ui } = first;
    await ui.connected();
    await expect(ui.row(PREFIX)).toHaveAttribute('data-presence', 'online');
    await openLogsTab(page, ui);

    await log(pub, [
      'I 12:00:00.001     boot: boot complete',
      'D 12:00:00.002     loop: tick 1',
      'W 12:00:00.003      mem: low memory 1234',
      'E 12:00:00.004   sensor: sensor failed to answer',
      'C 12:00:00.005   kernel: watchdog starving',
    ]);
    // Coloured live: each level has its own colour, errors are bold, debug is dimmed.
    await expect(row(page, 'sensor failed to answer')).toHaveAttribute('data-level', 'E');
    await expect(row(page, 'watchdog starving')).toBeVisible();
    const style = (text: string) => row(page, text).locator('.lc-text').evaluate((el) => ({ color: getComputedStyle(el).color, weight: getComputedStyle(el).fontWeight }));
    const [e, w, i, c, d] = await Promise.all(['sensor failed', 'low memory', 'boot complete', 'watchdog starving', 'tick 1'].map(style));
    expect(new Set([e!.color, w!.color, i!.color, c!.color, d!.color]).size).toBe(5);
    expect(e!.weight).toBe('700');
    expect(w!.weight).toBe('700');
    expect(c!.weight).toBe('700');
    expect(i!.weight).toBe('400');
    await expect(row(page, 'sensor failed')).toContainText('12:00:00.004');

    // Errors only (double-click a level keeps just that one); history is re-queried host-side.
    await page.getByTestId('log-level-E').dblclick();
    await expect(page.getByTestId('log-count')).toHaveAttribute('data-count', '1');
    await expect(row(page, 'sensor failed')).toBeVisible();
    await expect(row(page, 'boot complete')).toHaveCount(0);
    for (const l of ['C', 'W', 'I', 'D']) await page.getByTestId(`log-level-${l}`).click();
    // The device's own boot lines are there too; ours are all back.
    for (const t of ['boot complete', 'tick 1', 'low memory', 'watchdog starving']) await expect(row(page, t)).toBeVisible();

    // Plain search highlights the match; a regex finds what a literal would not.
    await page.getByTestId('log-search').fill('MEMORY 12');
    await expect(page.getByTestId('log-count')).toHaveAttribute('data-count', '1');
    await expect(page.getByTestId('log-hit')).toHaveText('memory 12');
    await page.getByTestId('log-regex').click();
    await page.getByTestId('log-search').fill('tick \\d$');
    await expect(page.getByTestId('log-hit')).toHaveText('tick 1');
    await page.getByTestId('log-regex').click();
    await page.getByTestId('log-search').fill('');
    await expect(row(page, 'boot complete')).toBeVisible();
    await expect(page.getByTestId('log-hit')).toHaveCount(0);

    // Pause: the list stands still and counts what arrives; resume shows it.
    await page.getByTestId('log-pause').click();
    await log(pub, ['I 12:00:01.000     loop: while paused 1', 'I 12:00:01.001     loop: while paused 2', 'W 12:00:01.002     loop: while paused 3']);
    await expect(page.getByTestId('log-pending')).toHaveAttribute('data-pending', '3');
    await expect(page.getByTestId('log-pending')).toHaveText('3 new lines');
    await expect(row(page, 'while paused')).toHaveCount(0);
    await page.getByTestId('log-resume').click();
    await expect(row(page, 'while paused')).toHaveCount(3);

    // A crash record becomes a critical line whose stack opens below the list.
    const crash = { id: 'e2e1', time: Date.UTC(2026, 0, 2, 3, 4, 5), bootCount: 7, mode: 'normal', reason: 'exception', message: 'TypeError: boom', stack: 'TypeError: boom\n    at handler (main.js:12:3)', log: ['E 03:04:05.000     main: boom'] };
    await pub.publishAsync(`${PREFIX}/mqb/crash`, JSON.stringify({ crashes: [crash] }), { qos: 1, retain: true });
    await row(page, 'exception: TypeError: boom').click();
    await expect(page.getByTestId('log-detail-stack')).toContainText('at handler (main.js:12:3)');
    await expect(page.getByTestId('log-crash-banner').filter({ visible: true })).toContainText('TypeError: boom');
    await mqb.screenshot(page, 'logs-tab-light');

    // The fleet view: every device with a device column.
    await page.getByTestId('open-fleet-logs').click();
    const fleet = page.getByTestId('fleet-logs');
    await expect(fleet.getByTestId('log-row').filter({ hasText: 'sensor failed' })).toHaveAttribute('data-prefix', PREFIX);
    await expect(fleet.locator('.lc-device').filter({ hasText: PREFIX }).first()).toBeVisible();
    await mqb.screenshot(page, 'logs-fleet-light');
    await first.close();

    // Restart against the same settings and data; a line that arrives while no log view is
    // open is kept by the host all the same.
    const second = await mqb.app({ profiles: [{ name: 'Logs broker', url: broker.url }], settingsDir: first.settingsDir, colorScheme: 'dark' });
    await second.ui.connected();
    await expect(second.ui.row(PREFIX)).toHaveAttribute('data-presence', 'online');
    await log(pub, ['I 12:00:02.000     loop: after the restart']);
    await openLogsTab(second.page, second.ui);
    await expect(row(second.page, 'sensor failed to answer')).toBeVisible();
    await expect(row(second.page, 'after the restart')).toBeVisible();
    // The retained crash record arrives again on connect; it is stored once.
    await expect(row(second.page, 'exception: TypeError: boom')).toHaveCount(1);
    await mqb.screenshot(second.page, 'logs-tab-dark');
    await second.page.getByTestId('open-fleet-logs').click();
    await expect(second.page.getByTestId('fleet-logs').getByTestId('log-row').filter({ hasText: 'boot complete' })).toBeVisible();
    await mqb.screenshot(second.page, 'logs-fleet-dark');
  } finally {
    await pub.endAsync();
  }
});
