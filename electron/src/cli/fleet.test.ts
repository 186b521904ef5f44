// `mqboard fleet …` on a real broker (aedes) and a fleet of our runtime: the commands as the CLI
// registers them, run in this process with their output captured.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDevice, startFleet, type FleetHandle } from '../../../device-runtime/src';
import { sha256, waitForDevices } from '../engine/test-support';
import { commandBed } from './command-bed';
import { addFleetCommands } from './fleet';
import { runCli } from './test-support';

const OLD = ['cf/g/001', 'cf/g/002', 'cf/g/003'];
const NEW = ['cf/h/001', 'cf/h/002'];
const GONE = 'cf/gone';
let newer: FleetHandle;
const bed = commandBed({
  name: 'cli-fleet',
  depths: [2, 3],
  add: addFleetCommands,
  async devices({ broker, watcher, roots, keep }) {
    keep(await startFleet({ url: broker.url, prefix: 'cf/g', root: path.join(roots.dir, 'g'), count: 3, firmware: '2.4.1' }));
    newer = keep(await startFleet({ url: broker.url, prefix: 'cf/h', root: path.join(roots.dir, 'h'), count: 2, firmware: '2.5.0' }));
    const gone = await startDevice({ url: broker.url, prefix: GONE, root: path.join(roots.dir, 'gone'), firmware: '2.4.1' });
    await waitForDevices(watcher, () => [...OLD, ...NEW, GONE].every((p) => watcher.device(p)?.presence === 'online'));
    await gone.stop();
    await waitForDevices(watcher, () => watcher.device(GONE)?.presence === 'offline');
  },
});
beforeAll(bed.start);
afterAll(bed.stop);
const { work } = bed;
const fleet = (args: string[], confirm?: (q: string) => Promise<boolean>) => bed.run(['fleet', ...args], confirm);

describe('mqboard fleet', () => {
  it('lists what a selector picks', async () => {
    const r = await fleet(['list', '--wait', '0', '--select', 'cf/** fw<2.5.0']);
    expect(r.failure).toBeUndefined();
    expect(r.out.split('\n').map((l) => l.split(/\s+/).slice(0, 4).join(' '))).toEqual([
      'DEVICE STATE KIND FIRMWARE',
      'cf/g/001 online mqboard 2.4.1',
      'cf/g/002 online mqboard 2.4.1',
      'cf/g/003 online mqboard 2.4.1',
      '',
    ]);
    // Listed from its retained offline status, which names no firmware.
    const offline = await fleet(['list', '--wait', '0', '--select', 'cf/** offline']);
    expect(offline.out.split('\n')[1]!.split(/\s+/)).toEqual(['cf/gone', 'offline', 'mqboard', '-', '-']);
  });

  it('calls outdated what is older than the newest firmware found, or than --latest', async () => {
    const found = await fleet(['list', '--wait', '0', '--json', '--select', 'cf/** outdated']);
    expect(JSON.parse(found.out).map((d: { prefix: string }) => d.prefix)).toEqual(OLD);
    const later = await fleet(['list', '--wait', '0', '--json', '--select', 'cf/** outdated', '--latest', '3.0']);
    expect(JSON.parse(later.out).map((d: { prefix: string }) => d.prefix)).toEqual([...OLD, ...NEW]);
    expect((await fleet(['list', '--wait', '0', '--select', 'outdated', '--latest', 'soon'])).failure).toMatchObject({ name: 'UsageError', message: expect.stringMatching(/^--latest: .*"soon" is not a version/) });
  });

  it('evaluates on every selected device: a table, then identical outputs grouped', async () => {
    const r = await fleet(['eval', '--wait', '0', '--select', 'prefix:cf/g/*,cf/h/* online', '6 * 7']);
    expect(r.failure).toBeUndefined();
    const lines = r.out.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^DEVICE\s+RESULT\s+MS\s+OUTPUT$/);
    expect(lines.slice(1, 6).map((l) => l.split(/\s+/))).toEqual([...OLD, ...NEW].map((p) => [p, 'ok', expect.stringMatching(/^\d+$/), '42']));
    expect(lines.slice(6)).toEqual(['', '5 devices → 42']);
  });

  it('prints JSON with --json and fails (exit status 1) when a device failed: here, one offline', async () => {
    const r = await fleet(['eval', '--wait', '0', '--json', '--select', 'prefix:cf/g/*,cf/gone', '"v" + 1']);
    expect(r.failure?.message).toBe('1 of 4 devices failed');
    expect(JSON.parse(r.out)).toEqual([
      ...OLD.map((prefix) => ({ prefix, ok: true, status: 'ok', output: "'v1'", ms: expect.any(Number) })),
      { prefix: GONE, ok: false, status: 'offline', error: 'the device is offline', ms: 0 },
    ]);
  });

  it('prints CSV with --csv', async () => {
    const r = await fleet(['eval', '--wait', '0', '--csv', '--select', 'cf/h/001', '1']);
    expect(r.failure).toBeUndefined();
    expect(r.out).toMatch(/^prefix,status,output,error,ms\r\ncf\/h\/001,ok,1,,\d+\r\n$/);
  });

  it('says which column of a selector is wrong, as a usage error', async () => {
    const r = await fleet(['eval', '--select', 'online fw<two', '1']);
    expect(r.failure).toMatchObject({ name: 'UsageError', message: 'selector: "two" is not a version (e.g. 2.5.0, 2.5 or 2.5.0-rc.1) at column 11: online fw<two' });
    expect((await fleet(['eval', '--select', ' ', '1'])).failure?.message).toMatch(/empty --select would pick every device/);
  });

  it('fails when nothing matches, naming how many devices it found', async () => {
    const r = await fleet(['eval', '--wait', '0', '--select', 'tag:nowhere', '1']);
    expect(r.failure?.message).toMatch(/^no device matches "tag:nowhere" \(\d+ found on the broker\)$/);
  });

  it('puts a file on every selected device, verified', async () => {
    const data = new TextEncoder().encode('LIMIT = 3\n');
    writeFileSync(path.join(work.dir, 'limits.py'), data);
    const r = await fleet(['put', '--wait', '0', '--select', 'cf/h/*', 'limits.py', '/lib/']);
    expect(r.failure?.message).toBe('2 of 2 devices failed');
    expect(r.out).toMatch(/2 devices → error: .*ENOENT/);
    await bed.watcher.mkdir(NEW[0]!, '/lib');
    await bed.watcher.mkdir(NEW[1]!, '/lib');
    const again = await fleet(['put', '--wait', '0', '--select', 'cf/h/*', 'limits.py', '/lib/']);
    expect(again.failure).toBeUndefined();
    expect(again.out).toContain(`2 devices → /lib/limits.py: ${data.length} bytes, sha256 ${sha256(data).slice(0, 12)}`);
    for (const p of NEW) expect(await bed.watcher.sha256(p, '/lib/limits.py')).toBe(sha256(data));
  });

  it('syncs a spec to every selected device, putting only what differs', async () => {
    writeFileSync(path.join(work.dir, 'main.py'), 'print("main")\n');
    writeFileSync(path.join(work.dir, 'boot.py'), 'print("boot")\n');
    writeFileSync(path.join(work.dir, 'spec.txt'), '/app:\n  main.py boot.py\n');
    const first = await fleet(['sync', '--wait', '0', '--select', 'cf/g/001,cf/g/002', 'spec.txt']);
    expect(first.failure).toBeUndefined();
    expect(first.out).toContain('2 devices → 2 put, 0 unchanged');
    writeFileSync(path.join(work.dir, 'main.py'), 'print("main v2")\n');
    const second = await fleet(['sync', '--wait', '0', '--select', 'cf/g/001,cf/g/002', 'spec.txt']);
    expect(second.out).toContain('2 devices → 1 put, 1 unchanged');
    expect(new TextDecoder().decode(await bed.watcher.get('cf/g/002', '/app/main.py'))).toBe('print("main v2")\n');
  });

  it('resets a selection only once confirmed', async () => {
    const questions: string[] = [];
    const refused = await fleet(['reset', '--wait', '0', '-s', '--select', 'cf/h/*'], async (q) => {
      questions.push(q);
      return false;
    });
    expect(questions).toEqual(['reset (soft) 2 devices: cf/h/001, cf/h/002? [y/N] ']);
    expect(refused.failure).toMatchObject({ name: 'UsageError', message: 'not confirmed: nothing was reset (pass --yes to reset without asking)' });

    const booted = newer.devices.map((d) => d.booted(2));
    const done = await fleet(['reset', '--wait', '0', '-s', '--yes', '--select', 'cf/h/*']);
    expect(done.failure).toBeUndefined();
    expect(done.out).toContain('2 devices → reset soft');
    await Promise.all(booted);
  });

  it('runs from the mqboard bin: exit status 1 when a device failed, 2 for a selector mistake', async () => {
    const env = { cwd: work.dir, port: bed.broker.port };
    const failed = await runCli(env, ['fleet', 'eval', '--wait', '0', '--json', '--select', 'prefix:cf/g/*,cf/gone', '1']);
    expect(failed).toMatchObject({ code: 1, stderr: 'mqboard: 1 of 4 devices failed\n' });
    expect(JSON.parse(failed.stdout).map((r: { status: string }) => r.status)).toEqual(['ok', 'ok', 'ok', 'offline']);
    const ok = await runCli(env, ['fleet', 'eval', '--wait', '0', '--select', 'cf/h/*', '1 + 1']);
    expect(ok).toMatchObject({ code: 0, stderr: '' });
    expect(ok.stdout).toContain('2 devices → 2');
    expect(await runCli(env, ['fleet', 'eval', '--select', 'fw<', '1'])).toMatchObject({ code: 2, stderr: 'mqboard: selector: fw< is missing a value at column 4: fw<\n' });
  });
});
