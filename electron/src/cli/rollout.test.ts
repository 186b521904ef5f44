// `mqboard rollout` on a real broker (aedes) and devices of our runtime: the command as the CLI
// registers it, run in this process with its output captured.
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBundle, startFleet } from '../../../device-runtime/src';
import { waitForDevices } from '../engine/test-support';
import { commandBed } from './command-bed';
import { addRolloutCommand } from './rollout';
import { UsageError } from './usage-error';

const N = 3;
const members = Array.from({ length: N }, (_, i) => `cr/f/${String(i + 1).padStart(3, '0')}`);
const bed = commandBed({
  name: 'cli-rollout',
  depths: [3],
  add: addRolloutCommand,
  async devices({ broker, watcher, roots, work, keep }) {
    for (let i = 1; i <= N; i++) {
      const dir = path.join(roots.dir, String(i).padStart(3, '0'));
      mkdirSync(dir, { recursive: true });
      writeFileSync(path.join(dir, 'config.json'), JSON.stringify({ watchdog: { timeoutS: 4, initialS: 10, allokS: 0.5 } }));
    }
    keep(await startFleet({ url: broker.url, prefix: 'cr/f', root: roots.dir, count: N, firmware: '1.0.0', moduleRetryMs: 300 }));
    await waitForDevices(watcher, () => members.every((p) => watcher.device(p)?.presence === 'online'));
    writeFileSync(path.join(work.dir, 'good.tar'), await createBundle({ name: 'pump', version: '1.1.0', modules: ['app'] }, { 'app.mjs': 'export function start() {}\n' }));
    writeFileSync(path.join(work.dir, 'bad.tar'), await createBundle({ name: 'pump', version: '1.2.0', modules: ['app'] }, { 'app.mjs': 'export function start() { throw new Error("no pump"); }\n' }));
  },
});
beforeAll(bed.start);
afterAll(bed.stop);
const { work } = bed;
const rollout = (args: string[]) => bed.run(['rollout', ...args]);

const common = ['--wait', '0', '--depth', '3', '--soak', '1', '--online-within', '30'];

describe('mqboard rollout', () => {
  it('streams one line per device event and ends with the summary', async () => {
    const r = await rollout([path.join(work.dir, 'good.tar'), '--select', 'cr/**', '--waves', '1,100%', '--concurrency', '2', ...common]);
    expect(r.failure).toBeUndefined();
    expect(r.err).toMatch(/^good\.tar: bundle 1\.1\.0, \d+ bytes; wave 1 \(1\): 1, wave 2 \(100%\): 2\n$/);
    const lines = r.out.trim().split('\n');
    expect(lines.at(-1)).toBe('rollout done (3 updated)');
    for (const p of members) {
      const mine = lines.filter((l) => l.includes(` ${p} `)).map((l) => l.replace(/^\S+ \S+ \[wave \d\/2\] /, '').replace(/ \(.*\)$/, ''));
      expect(mine).toEqual(['pending', 'sending', 'rebooting', 'verifying', 'soaking', 'updated to 1.1.0']);
    }
    expect(members.map((p) => bed.watcher.device(p)?.firmware)).toEqual(members.map(() => '1.1.0'));
  }, 60_000);

  it('exits non-zero when the canary fails and the rollout pauses; --json prints one object per line', async () => {
    const r = await rollout([path.join(work.dir, 'bad.tar'), '--select', 'cr/**', '--waves', '1,100%', '--json', ...common]);
    expect(r.failure?.message).toBe('the rollout paused: the canary wave had 1 device fail the gate (allowed: 0)');
    const objects = r.out.trim().split('\n').map((l) => JSON.parse(l) as { event: string; prefix?: string; state: string; reason?: string; now?: string });
    const canary = objects.filter((x) => x.event === 'device' && x.prefix === members[0]).at(-1)!;
    expect(canary).toMatchObject({ state: 'rolled-back', now: '1.1.0' });
    expect(canary.reason).toMatch(/no pump/);
    expect(objects.at(-1)).toMatchObject({ event: 'rollout', state: 'paused' });
    expect(members.map((p) => bed.watcher.device(p)?.firmware)).toEqual(members.map(() => '1.1.0'));
  }, 60_000);

  it('refuses what cannot be rolled out, in words', async () => {
    const waves = await rollout([path.join(work.dir, 'good.tar'), '--select', 'cr/**', '--waves', '1,,2', ...common]);
    expect(waves.failure).toBeInstanceOf(UsageError);
    expect(waves.failure?.message).toMatch(/^waves: waves like 1,10%,50%,100%/);
    writeFileSync(path.join(work.dir, 'notes.txt'), 'this is not an image, only a note about one that goes on for some words');
    const junk = await rollout([path.join(work.dir, 'notes.txt'), '--select', 'cr/**', ...common]);
    expect(junk.failure).toBeInstanceOf(UsageError);
    expect(junk.failure?.message).toMatch(/^notes\.txt: not an app bundle/);
    const version = await rollout([path.join(work.dir, 'good.tar'), '--select', 'cr/**', '--version', '9.9.9', ...common]);
    expect(version.failure?.message).toBe('good.tar: the bundle says version 1.1.0, not 9.9.9');
    const none = await rollout([path.join(work.dir, 'good.tar'), '--select', 'cr/**', ...common]);
    expect(none.failure?.message).toMatch(/^no device to update: 3 skipped \(already on 1\.1\.0\)/);
  }, 30_000);
});
