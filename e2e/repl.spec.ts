// The REPL tab against a device process (the `mqboard-device` bin, supervised): typing goes
// through xterm, the bridge, the engine and the broker to Node's REPL on the device and back.
// Every wait is on what the terminal shows.
import { spawnSync } from 'node:child_process';
import { mosquittoMissingReason } from '../testing/brokers';
import { expect, test } from './fixtures';
import type { Locator, Page } from '@playwright/test';

const hasPython = spawnSync('python3', ['--version'], { stdio: 'ignore' }).status === 0;

/** The terminal's visible lines (xterm's DOM renderer), with xterm's non-breaking spaces as spaces. */
async function lines(screen: Locator): Promise<string[]> {
  const rows = await screen.locator('.xterm-rows > div').allTextContents();
  return rows.map((r) => r.replace(/\u00a0/g, ' ').trimEnd());
}

/** Waits until the line after the one ending in `input` (the echoed input) reads `output`. */
async function expectResult(screen: Locator, input: string, output: string | RegExp, nth = 1): Promise<void> {
  await expect
    .poll(async () => {
      const all = await lines(screen);
      const hits = all.flatMap((l, i) => (l.endsWith(input) && l.includes('›') ? [all[i + 1] ?? ''] : []));
      return hits.length >= nth ? hits[nth - 1] : undefined;
    })
    .toMatch(output);
}

async function enter(page: Page, text: string): Promise<void> {
  await page.keyboard.type(text);
  await page.keyboard.press('Enter');
}

test('REPL: evaluate, variables, history, interrupt and completion on a live device', async ({ mqb }) => {
  const broker = await mqb.embeddedBroker();
  mqb.devices({ url: broker.url, prefix: 'e2e/repl' });
  const { page, ui } = await mqb.app({ profiles: [{ name: 'Test broker', url: broker.url }], colorScheme: 'dark' });
  await ui.connected();
  await expect(ui.row('e2e/repl')).toHaveAttribute('data-presence', 'online');
  await ui.row('e2e/repl').click();
  await page.getByTestId('tab-repl').click();

  const tab = page.getByTestId('repl-tab');
  await expect(tab).toHaveAttribute('data-mode', 'live');
  await expect(tab).toHaveAttribute('data-state', 'open');
  const screen = page.getByTestId('repl-terminal');
  await expect(screen.locator('.xterm-rows')).toContainText('›');
  await screen.click();

  await enter(page, '1+1');
  await expectResult(screen, '1+1', /^2$/);

  await enter(page, 'let answer = 20');
  await enter(page, 'answer * 2 + 2');
  await expectResult(screen, 'answer * 2 + 2', /^42$/);

  // Up recalls the last line; Enter runs it again.
  await page.keyboard.press('ArrowUp');
  await expect.poll(async () => (await lines(screen)).some((l) => /› answer \* 2 \+ 2$/.test(l))).toBe(true);
  await page.keyboard.press('Enter');
  await expectResult(screen, 'answer * 2 + 2', /^42$/, 2);

  // A busy loop: its echo shows the device is running it; Ctrl-C stops it, the prompt returns
  // and the context is intact.
  await enter(page, 'while(true){}');
  await expect.poll(async () => (await lines(screen)).some((l) => l.endsWith('while(true){}'))).toBe(true);
  await page.keyboard.press('Control+C');
  await expect(screen.locator('.xterm-rows')).toContainText(/interrupted/i);
  await enter(page, 'answer + 1');
  await expectResult(screen, 'answer + 1', /^21$/);

  // Tab completes a global of the device context.
  await page.keyboard.type('watchd');
  await page.keyboard.press('Tab');
  await expect.poll(async () => (await lines(screen)).some((l) => /› watchdog$/.test(l))).toBe(true);
  await page.keyboard.press('Enter');
  await expectResult(screen, 'watchdog', /feed/);

  await mqb.screenshot(page, 'repl-live-dark');

  // Switching to another tab and back keeps the session and its scrollback.
  await page.getByTestId('tab-details').click();
  await page.getByTestId('tab-repl').click();
  await expect(tab).toHaveAttribute('data-state', 'open');
  await expectResult(screen, '1+1', /^2$/);

  // Reconnect: a new session in the same terminal and the same device context (`answer` is
  // still there), scrollback kept; Clear empties the scrollback.
  await page.getByTestId('repl-reconnect').click();
  await expect(screen.locator('.xterm-rows')).toContainText('reconnecting');
  await expect(tab).toHaveAttribute('data-state', 'open');
  await screen.click();
  await enter(page, 'answer');
  await expectResult(screen, 'answer', /^20$/);
  await expectResult(screen, '1+1', /^2$/);
  await page.getByTestId('repl-clear').click();
  await expect(screen.locator('.xterm-rows')).not.toContainText('1+1');
});

test('REPL on an original board: line mode over eval, history, errors in red', async ({ mqb }) => {
  test.skip(!hasPython, 'the original-board simulator needs python3: apt-get install python3 (CI installs it)');
  // First run starts the demo fleet, which includes a simulated original MQBoard board.
  const { page, ui } = await mqb.app();
  await ui.connected();
  await expect(ui.row('lab/original-board')).toHaveAttribute('data-presence', 'online');
  await ui.row('lab/original-board').click();
  await page.getByTestId('tab-repl').click();

  const tab = page.getByTestId('repl-tab');
  await expect(tab).toHaveAttribute('data-mode', 'line');
  const screen = page.getByTestId('repl-terminal');
  await expect(screen.locator('.xterm-rows')).toContainText('This board has no live terminal');
  await screen.click();

  const result = async (input: string, output: RegExp, nth = 1) =>
    expect
      .poll(async () => {
        const all = await lines(screen);
        const hits = all.flatMap((l, i) => (l === `>>> ${input}` ? [all[i + 1] ?? ''] : []));
        return hits.length >= nth ? hits[nth - 1] : undefined;
      })
      .toMatch(output);

  await enter(page, '1+1');
  await result('1+1', /^2$/);
  await enter(page, 'x = 6');
  await enter(page, 'x * 7');
  await result('x * 7', /^42$/);
  await page.keyboard.press('ArrowUp');
  await page.keyboard.press('Enter');
  await result('x * 7', /^42$/, 2);

  // A block: a line ending in ':' continues until an empty line.
  await enter(page, 'for i in range(2):');
  await enter(page, '    print(i * 10)');
  await page.keyboard.press('Enter');
  await expect.poll(async () => (await lines(screen)).join('\n')).toMatch(/^\.\.\.\n0\n10\n>>>/m);

  await enter(page, '1/0');
  const error = screen.locator('.xterm-rows span.xterm-fg-1', { hasText: 'ZeroDivisionError' });
  await expect(error.first()).toBeVisible();
  await mqb.screenshot(page, 'repl-line-mode-light');
});

test('REPL after a broker drop: a new session in the same terminal, scrollback kept', async ({ mqb }) => {
  test.skip(mosquittoMissingReason !== undefined, 'needs a real Mosquitto: apt-get install mosquitto (CI installs it)');
  const mosquitto = await mqb.mosquitto();
  mqb.devices({ url: mosquitto.url, prefix: 'e2e/drop' });
  const { page, ui } = await mqb.app({ profiles: [{ name: 'Mosquitto', url: mosquitto.url }] });
  await ui.connected();
  await expect(ui.row('e2e/drop')).toHaveAttribute('data-presence', 'online');
  await ui.row('e2e/drop').click();
  await page.getByTestId('tab-repl').click();
  const tab = page.getByTestId('repl-tab');
  await expect(tab).toHaveAttribute('data-state', 'open');
  const screen = page.getByTestId('repl-terminal');
  await expect(screen.locator('.xterm-rows')).toContainText('›');
  await screen.click();
  await enter(page, '"before the drop".length');
  await expectResult(screen, '"before the drop".length', /^15$/);

  await mosquitto.restart();
  // The session ends with the connection and comes back by itself once the app reconnects.
  await expect(screen.locator('.xterm-rows')).toContainText('session ended');
  await ui.connected();
  await expect(tab).toHaveAttribute('data-state', 'open', { timeout: 30_000 });
  await enter(page, '"after".length');
  await expectResult(screen, '"after".length', /^5$/);
  // The old output is still in the terminal.
  await expectResult(screen, '"before the drop".length', /^15$/);
  await mqb.screenshot(page, 'repl-after-drop-light');
});
