// Every view holds at the Electron window's minimum size (900×560, electron/src/main): the
// page never scrolls sideways, no control sticks out of its region or is cut off by it, and
// the log views keep a readable message column. Each view is screenshotted into
// e2e/artifacts/screens/min-*.png for a person to look at.
import type { Page } from '@playwright/test';
import { expect, test } from './fixtures';

const MIN = { width: 900, height: 560 };

interface Overflow {
  what: string;
  box: string;
  limit: string;
}

/**
 * What does not fit: the document scrolling sideways, and any visible control or chip whose box
 * leaves the viewport or is clipped sideways by an ancestor that hides overflow. Content inside
 * a scroll container that scrolls sideways is reachable and allowed.
 */
async function overflows(page: Page): Promise<Overflow[]> {
  return page.evaluate(() => {
    const out: { what: string; box: string; limit: string }[] = [];
    const root = document.documentElement;
    if (root.scrollWidth > window.innerWidth) out.push({ what: 'document', box: `scrollWidth ${root.scrollWidth}`, limit: `innerWidth ${window.innerWidth}` });
    const name = (el: Element) => `${el.tagName.toLowerCase()}${el.getAttribute('data-testid') ? `[${el.getAttribute('data-testid')}]` : ''}.${Array.from(el.classList).join('.')} "${(el.textContent ?? '').trim().slice(0, 30)}"`;
    const controls = document.querySelectorAll('button, input, select, textarea, [role=tab], .pill, .count, .search, .log-search, .repl-search, .segmented');
    for (const el of Array.from(controls)) {
      const r = el.getBoundingClientRect();
      if (r.width === 0 || r.height === 0 || el.closest('[hidden]') || getComputedStyle(el).visibility === 'hidden') continue;
      if ((el as HTMLInputElement).type === 'file') continue;
      if (r.right > window.innerWidth + 0.5 || r.left < -0.5) {
        out.push({ what: name(el), box: `${r.left.toFixed(0)}..${r.right.toFixed(0)}`, limit: `viewport 0..${window.innerWidth}` });
        continue;
      }
      // A control stays inside its region: the top bar, the fleet column, the workspace or its dialog.
      const region = el.closest('dialog[open], .topbar, .fleet, .workspace');
      const rr = region?.getBoundingClientRect();
      if (region && rr && (r.right > rr.right + 0.5 || r.left < rr.left - 0.5)) {
        out.push({ what: name(el), box: `${r.left.toFixed(0)}..${r.right.toFixed(0)}`, limit: `region ${name(region).slice(0, 40)} ${rr.left.toFixed(0)}..${rr.right.toFixed(0)}` });
        continue;
      }
      // A control inside a group (a search box with its options, the filter chips) stays in it.
      const group = el.parentElement?.closest('.search, .repl-search, .segmented, .log-levels');
      const gr = group?.getBoundingClientRect();
      if (group && gr && (r.right > gr.right + 0.5 || r.left < gr.left - 0.5)) {
        out.push({ what: name(el), box: `${r.left.toFixed(0)}..${r.right.toFixed(0)}`, limit: `group ${name(group).slice(0, 40)} ${gr.left.toFixed(0)}..${gr.right.toFixed(0)}` });
        continue;
      }
      for (let a = el.parentElement; a && a !== document.body; a = a.parentElement) {
        const ox = getComputedStyle(a).overflowX;
        if (ox === 'visible') continue;
        if (ox === 'auto' || ox === 'scroll') break;
        const ar = a.getBoundingClientRect();
        if (r.right > ar.right + 0.5 || r.left < ar.left - 0.5) {
          out.push({ what: name(el), box: `${r.left.toFixed(0)}..${r.right.toFixed(0)}`, limit: `${name(a)} ${ar.left.toFixed(0)}..${ar.right.toFixed(0)}` });
          break;
        }
      }
    }
    return out;
  });
}

/** The narrowest message column among the visible log rows (no rows: Infinity). */
async function narrowestLogText(page: Page): Promise<number> {
  return page.evaluate(() => {
    const widths = Array.from(document.querySelectorAll('.log-row .lc-text')).filter((e) => !e.closest('[hidden]')).map((e) => e.getBoundingClientRect().width);
    return widths.length ? Math.min(...widths) : Infinity;
  });
}

async function holds(page: Page, shot: string, screenshot: (p: Page, n: string) => Promise<void>): Promise<void> {
  await screenshot(page, `min-${shot}`);
  expect.soft(await overflows(page), shot).toEqual([]);
}

test('every view holds at the minimum window size, 900×560', async ({ mqb }) => {
  const broker = await mqb.embeddedBroker();
  mqb.devices({ url: broker.url, prefix: 'greenhouse/climate-sensor-with-a-long-name' });
  mqb.devices({ url: broker.url, prefix: 'lab/fleet', fleet: 3 });
  const { page, ui } = await mqb.app({ profiles: [{ name: 'A broker profile with a rather long name', url: broker.url }] });
  await page.setViewportSize(MIN);
  await ui.connected();
  const prefix = 'greenhouse/climate-sensor-with-a-long-name';
  await expect(ui.row(prefix)).toHaveAttribute('data-presence', 'online');
  await expect(ui.rows()).toHaveCount(4);
  const shot = (p: Page, n: string) => mqb.screenshot(p, n);

  await holds(page, 'overview', shot);
  await page.getByTestId('filter-crash').click();
  await holds(page, 'filter-chip', shot);
  await page.getByTestId('filter-all').click();

  await ui.row(prefix).click();
  await ui.row('lab/fleet/001').click();
  await ui.row(prefix).click();
  const ws = page.getByTestId('device-workspace');
  await expect(ws).toHaveAttribute('data-prefix', prefix);
  await holds(page, 'details', shot);

  await ws.getByTestId('tab-repl').click();
  await expect(ws.getByTestId('repl-tab')).toHaveAttribute('data-state', 'open');
  await ws.getByTestId('repl-search').fill('x');
  await expect(ws.getByTestId('repl-reconnect')).toBeVisible();
  await holds(page, 'repl', shot);

  await ws.getByTestId('tab-logs').click();
  await expect(ws.getByTestId('log-search')).toBeVisible();
  await holds(page, 'logs', shot);
  expect.soft(await narrowestLogText(page), 'log message column').toBeGreaterThanOrEqual(120);

  await ws.getByTestId('tab-files').click();
  await expect(ws.getByTestId('file-tree')).toBeVisible();
  await holds(page, 'files', shot);

  await ws.getByTestId('tab-ota').click();
  await holds(page, 'ota', shot);

  await page.getByTestId('open-fleet-logs').click();
  await expect(page.getByTestId('fleet-logs')).toBeVisible();
  await expect(page.getByTestId('fleet-logs').getByTestId('log-row').first()).toBeVisible({ timeout: 30_000 });
  await holds(page, 'fleet-logs', shot);
  expect.soft(await narrowestLogText(page), 'log message column').toBeGreaterThanOrEqual(120);
  await page.getByTestId('fleet-logs-close').click();

  await page.getByTestId('open-connections').click();
  await expect(page.getByTestId('profiles-dialog')).toBeVisible();
  await holds(page, 'connections', shot);
  await page.keyboard.press('Escape');

  await page.getByTestId('tab-details').click();
  await page.getByTestId('add-device').click().catch(() => undefined);
  if (await page.getByTestId('add-device-prefix').isVisible()) {
    await holds(page, 'add-device', shot);
    await page.keyboard.press('Escape');
  }
});
