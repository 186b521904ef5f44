// The demo's battery board sleeps (15 s at the harness's pace) and wakes for 5: while it sleeps,
// the list and its Details say so, with a countdown to its next wake that ticks on its own.
import { expect, test } from './fixtures';

const NOTE = /^asleep · (next wake in ~\d+ (s|min)|wake overdue)$/;

test('a sleeping board says it is asleep and when it should wake', async ({ mqb }) => {
  test.setTimeout(180_000);
  const P = 'field/soil-probe';
  const { page, ui } = await mqb.app();
  await ui.connected();
  await expect(ui.row(P)).toHaveAttribute('data-presence', 'offline', { timeout: 120_000 });

  const note = ui.row(P).getByTestId('sleep-note');
  await expect(note).toHaveText(NOTE);
  const first = (await note.textContent()) ?? '';
  const left = Number(/~(\d+) s/.exec(first)?.[1] ?? 0);
  // With time left on the countdown it moves within a couple of seconds, without any update
  // from the device (it is asleep).
  if (left >= 6) await expect(note).not.toHaveText(first, { timeout: 5_000 });
  // Devices that are awake show no such note.
  await expect(ui.row('greenhouse/climate-1').getByTestId('sleep-note')).toHaveCount(0);
  await mqb.screenshot(page, 'sleeper-row');

  await ui.row(P).click();
  await expect(page.getByTestId('detail-presence').getByTestId('sleep-note')).toHaveText(NOTE);
  await mqb.screenshot(page, 'sleeper-details');

  // When it wakes, it is online again and the note goes.
  await expect(ui.row(P)).toHaveAttribute('data-presence', 'online', { timeout: 60_000 });
  await expect(ui.row(P).getByTestId('sleep-note')).toHaveCount(0);
});
