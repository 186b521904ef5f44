// The line-mode REPL of an original MQBoard board (the demo's simulated one): what print()
// writes comes back to the terminal, for a print() line as for statements, and the tab says
// what an expression shows.
import { spawnSync } from 'node:child_process';
import type { Page } from '@playwright/test';
import { expect, test } from './fixtures';

const hasPython = spawnSync('python3', ['--version'], { stdio: 'ignore' }).status === 0;

async function lines(page: Page): Promise<string[]> {
  const rows = await page.getByTestId('repl-terminal').locator('.xterm-rows > div').allTextContents();
  return rows.map((r) => r.replace(/\u00a0/g, ' ').trimEnd());
}

/** The line after the `>>> input` prompt line. */
async function expectResult(page: Page, input: string, output: string): Promise<void> {
  await expect.poll(async () => {
    const all = await lines(page);
    return all.flatMap((l, i) => (l === `>>> ${input}` ? [all[i + 1] ?? ''] : [])).pop();
  }).toBe(output);
}

test('line mode shows what print() writes, and the tab says what an expression shows', async ({ mqb }) => {
  test.skip(!hasPython, 'the original-board simulator needs python3: apt-get install python3 (CI installs it)');
  const { page, ui } = await mqb.app();
  await ui.connected();
  await expect(ui.row('lab/original-board')).toHaveAttribute('data-presence', 'online');
  await ui.row('lab/original-board').click();
  await page.getByTestId('tab-repl').click();
  await expect(page.getByTestId('repl-tab')).toHaveAttribute('data-mode', 'line');
  await expect(page.getByTestId('repl-tab')).toContainText('statements what they print');
  const screen = page.getByTestId('repl-terminal');
  await expect(screen.locator('.xterm-rows')).toContainText('>>>');
  await screen.click();

  for (const [input, output] of [
    ['print("hello")', 'hello'],
    ['print("a # b")  # a comment', 'a # b'],
    ['x = 6; print(x * 7)', '42'],
    ['2 ** 10', '1024'],
  ]) {
    await page.keyboard.type(input!);
    await page.keyboard.press('Enter');
    await expectResult(page, input!, output!);
  }
});
