// Firmware on the simulated original board: it reports the build of the image it booted (the
// image's app description), confirms a new image at its watchdog's all-OK, and an image that
// panics before that is rolled back by the bootloader at the reset.
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { logTopic } from '../../../protocol/src';
import { startEmbeddedBroker, type EmbeddedBroker } from '../../../testing/brokers';
import { buildFirmwareImage, readAppDescription, SIM_PANIC_MARK } from './firmware-image';
import { startOriginalBoard, type OriginalBoard } from './index';
import { TestCli, type Received } from './test-client';

const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

describe('an ESP32 app image', () => {
  it('says its version in the app description at 0x20 (magic 0xABCD5432, version at +16)', () => {
    const img = buildFirmwareImage({ version: 'v1.13-mqboard-2', projectName: 'micropython' });
    expect(img[0]).toBe(0xe9);
    expect(Buffer.from(img.subarray(0x20, 0x24)).readUInt32LE(0)).toBe(0xabcd5432);
    expect(Buffer.from(img.subarray(0x30, 0x30 + 15)).toString()).toBe('v1.13-mqboard-2');
    expect(readAppDescription(img)).toEqual({ version: 'v1.13-mqboard-2', projectName: 'micropython' });
  });

  it('has no version a host can read when the description is missing or not text', () => {
    const img = buildFirmwareImage({ version: 'v1.13' });
    expect(readAppDescription(img.subarray(0, 100))).toBeUndefined();
    const noMagic = img.slice();
    noMagic[0x20] = 0;
    expect(readAppDescription(noMagic)).toBeUndefined();
    const binary = img.slice();
    binary[0x31] = 0x07;
    expect(readAppDescription(binary)).toBeUndefined();
    const notEsp = img.slice();
    notEsp[0] = 0x1f;
    expect(readAppDescription(notEsp)).toBeUndefined();
    expect(() => buildFirmwareImage({ version: 'x'.repeat(32) })).toThrow(RangeError);
  });
});

describe('the simulated original board and its firmware', () => {
  let broker: EmbeddedBroker;
  let board: OriginalBoard;
  let cli: TestCli;
  let root: string;
  const prefix = 'test/fw';
  const lines = () => cli.seen.filter((m) => m.topic === logTopic(prefix)).map((m) => m.payload.toString());
  const logged = (re: RegExp, after = 0, what = re.source) => cli.waitFor((m) => m.topic === logTopic(prefix) && re.test(m.payload.toString()) && cli.seen.indexOf(m) >= after, what, 15_000);
  const mark = () => cli.seen.length;
  const state = () => JSON.parse(fs.readFileSync(path.join(`${root}.ota`, 'state.json'), 'utf8')) as { running: string; pendingVerify: boolean };
  const ota = async (image: Uint8Array) => expect((await cli.perform('ota', image, { tail: sha256(image) })).text).toBe('OK');
  /** `watchdog.reset('n')`, as the host resets an original board into normal mode. */
  const resetNormal = async () => {
    await cli.perform('eval', "sys.modules['watchdog'].reset('n')");
  };

  beforeAll(async () => {
    broker = await startEmbeddedBroker();
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'mqb-fw-'));
    cli = await TestCli.connect(broker.url, prefix);
    await cli.subscribe(`${prefix}/log`);
    board = await startOriginalBoard({ url: broker.url, prefix, root, watchdogIntervalMs: 200, allokMs: 1500, firmware: 'v1.12-weather-1-8-g251c8f5a3' });
    await logged(/Subscribed to/);
  });
  afterAll(async () => {
    await board?.stop();
    await cli?.end();
    await broker?.close();
    if (root) {
      fs.rmSync(root, { recursive: true, force: true });
      fs.rmSync(`${root}.ota`, { recursive: true, force: true });
    }
  });

  it('greets with the build it was flashed with, like the original main.py', async () => {
    expect(lines().some((l) => /^W \d+ {5}main: MicroPython 1\.12\.0 \(v1\.12-weather-1-8-g251c8f5a3 on 2020-05-23/.test(l))).toBe(true);
    expect((await cli.perform('eval', 'import os\nprint(os.uname().version)')).text).toMatch(/^v1\.12-weather-1-8-g251c8f5a3 on /);
  });

  it('boots a new image on trial, reports its build, and confirms it at the all-OK', async () => {
    await ota(buildFirmwareImage({ version: 'v1.13-mqboard' }));
    const at = mark();
    await resetNormal();
    const greeting = await logged(/main: MicroPython 1\.13\.0 \(v1\.13-mqboard on /, at, 'greeting of the new build');
    const from = cli.seen.indexOf(greeting);
    await logged(/main: Boot partition: ota_1$/, from);
    expect(state()).toMatchObject({ running: 'ota_1', pendingVerify: true });
    expect((await cli.perform('eval', 'sys.implementation.version')).text).toBe('(1, 13, 0)');
    // The watchdog module's `first` says whether the all-OK has happened, as on a board.
    expect((await cli.perform('eval', 'watchdog.first is None')).text).toBe('False');
    await logged(/watchdog: Next reset: normal boot$/, from, 'all-OK of the new build');
    expect(state()).toMatchObject({ running: 'ota_1', pendingVerify: false });
    expect((await cli.perform('eval', 'watchdog.first is None')).text).toBe('True');
  }, 30_000);

  it('rolls back an image that panics before its all-OK: the previous build boots again', async () => {
    const bad = buildFirmwareImage({ version: 'v1.14-broken', panic: true });
    expect(Buffer.from(bad).includes(SIM_PANIC_MARK)).toBe(true);
    await ota(bad);
    const at = mark();
    await resetNormal();
    const greeting = await logged(/main: MicroPython 1\.14\.0 \(v1\.14-broken on /, at, 'greeting of the broken build');
    const from = cli.seen.indexOf(greeting);
    const previous = await logged(/main: MicroPython 1\.13\.0 \(v1\.13-mqboard on /, from, 'greeting of the previous build');
    await logged(/main: Reset cause: WDT_RESET$/, from);
    const between = cli.seen.slice(from, cli.seen.indexOf(previous)).map((m: Received) => m.payload.toString());
    expect(between.filter((l) => l.includes('watchdog: Next reset: normal boot'))).toEqual([]);
    expect(state()).toMatchObject({ running: 'ota_1', pendingVerify: false });
  }, 30_000);
});
