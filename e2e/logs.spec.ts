// Live colour logs: lines appear live and coloured by level, the level filter and
// search (with highlight) work, pause counts what arrives meanwhile, crash records show their
// stack, and everything stored is still there after the app restarts. Lines are published on
// the device's `P/log` topic by the test itself, so the spec knows exactly what to expect.
import { readFile } from 'node:fs/promises';
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

    // Export the filtered view (web mode: a download of what the host wrote).
    await page.getByTestId('log-level-E').dblclick();
    await expect(page.getByTestId('log-count')).toHaveAttribute('data-count', '1');
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('log-export').click()]);
    const exported = await readFile((await download.path())!, 'utf8');
    expect(exported).toContain('E 12:00:00.004 sensor: sensor failed to answer');
    expect(exported).not.toContain('boot complete');
    for (const l of ['C', 'W', 'I', 'D']) await page.getByTestId(`log-level-${l}`).click();
    await expect(row(page, 'boot complete')).toBeVisible();

    // Virtualized: thousands of lines, a screenful of rows in the DOM, following the newest.
    await Promise.all(Array.from({ length: 3_000 }, (_, k) => pub.publishAsync(`${PREFIX}/log`, `D 12:00:03.000     bulk: bulk line ${k}`, { qos: 1 })));
    await expect(row(page, 'bulk line 2999')).toBeVisible();
    expect(Number(await page.getByTestId('log-count').getAttribute('data-count'))).toBeGreaterThan(3_000);
    expect(await page.getByTestId('log-row').count()).toBeLessThan(150);

    // The fleet view: every device with a device column; its own filter (no debug lines).
    await page.getByTestId('open-fleet-logs').click();
    const fleet = page.getByTestId('fleet-logs');
    await expect(fleet.getByTestId('log-row').filter({ hasText: 'bulk line 2999' })).toHaveAttribute('data-prefix', PREFIX);
    await fleet.getByTestId('log-level-D').click();
    await expect(fleet.getByTestId('log-row').filter({ hasText: 'sensor failed' })).toHaveAttribute('data-prefix', PREFIX);
    await expect(fleet.locator('.lc-device').filter({ hasText: PREFIX }).first()).toBeVisible();
    await mqb.screenshot(page, 'logs-fleet-light');
    await first.close();

    // Restart against the same settings and data; a line that arrives while no log view is
    // open is kept by the host all the same.
    const second = await mqb.app({ profiles: [{ name: 'Logs broker', url: broker.url }], settingsDir: first.settingsDir, colorScheme: 'dark' });
    const p2 = second.page;
    await second.ui.connected();
    await expect(second.ui.row(PREFIX)).toHaveAttribute('data-presence', 'online');
    await log(pub, ['I 12:00:02.000     loop: after the restart']);
    await openLogsTab(p2, second.ui);
    await expect(row(p2, 'after the restart')).toBeVisible();
    await expect(row(p2, 'bulk line 2999')).toBeVisible();
    // History from before the restart, found host-side past the bulk lines.
    await p2.getByTestId('log-level-D').click();
    await expect(row(p2, 'sensor failed to answer')).toBeVisible();
    await expect(row(p2, 'watchdog starving')).toBeVisible();
    // The retained crash record arrives again on connect; it is stored once.
    await expect(row(p2, 'exception: TypeError: boom')).toHaveCount(1);
    await p2.getByTestId('log-search').fill('o');
    await expect(p2.getByTestId('log-hit').first()).toBeVisible();
    await mqb.screenshot(p2, 'logs-tab-dark');
    await p2.getByTestId('open-fleet-logs').click();
    await p2.getByTestId('fleet-logs').getByTestId('log-level-D').click();
    await expect(p2.getByTestId('fleet-logs').getByTestId('log-row').filter({ hasText: 'boot complete' })).toBeVisible();
    await mqb.screenshot(p2, 'logs-fleet-dark');
  } finally {
    await pub.endAsync();
  }
});
