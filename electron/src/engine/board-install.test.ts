// Migrating a board that runs the ORIGINAL MQBoard code to our MicroPython package over MQTT:
// the original-board simulator (whose migrated boot runs the package on the real MicroPython
// interpreter, the WebAssembly port), a real aedes broker that requires credentials, the engine.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDevice } from '../../../device-runtime/src';
import { startOriginalBoard, type OriginalBoard } from '../../../device-runtime/src/original';
import { MIGRATION_MARKER as SIMULATOR_MARKER } from '../../../device-runtime/src/original/package-boot';
import { startEmbeddedBroker, type EmbeddedBroker } from '../../../testing/brokers';
import { randomCredentials } from '../broker/embedded';
import {
  DEFAULT_PACKAGE_DIR,
  describeMissing,
  installOnOriginalBoard,
  InstallError,
  KEPT_ORIGINAL,
  MIGRATION_BOOT,
  MIGRATION_MARKER,
  packageConfig,
  packageFiles,
  parseOriginalConfig,
  READ_CONFIG,
  type InstallStep,
} from './board-install';
import { createEngine } from './engine';
import { tempDir, waitForDevices } from './test-support';
import type { Engine } from './types';

const pythonMissing = spawnSync('python3', ['--version']).status === 0 ? undefined : 'python3 is missing: original-board simulator tests skipped';

const ORIGINAL_BOOT = '# boot.py - handle safemode, start the watchdog and logging (the original)\nimport gc, sys, machine, os\n';
const ORIGINAL_MAIN = '# the original application main.py\nimport mqrepl\n';
const SAFEMODE = { 'main.py': '# original safe mode main\n', 'mqtt.py': '# original mqtt.py\n', 'board_config.py': '# safe copy\n' };

/** A board's filesystem as the original's README loads it, with its config naming this broker. */
function originalRoot(dir: string, cfg: { host: string; port: number; user: string; password: string; prefix: string }): void {
  writeFileSync(path.join(dir, 'boot.py'), ORIGINAL_BOOT);
  writeFileSync(path.join(dir, 'main.py'), ORIGINAL_MAIN);
  writeFileSync(
    path.join(dir, 'board_config.py'),
    [
      'from binascii import unhexlify',
      'location = "mqtest"',
      "wifi_ssid = 'greenhouse-net'",
      "wifi_pass = 'tomatoes4ever'",
      'mqtt_config = {',
      `    "server": ${JSON.stringify(cfg.host)},`,
      `    "port": ${cfg.port},`,
      `    "user": ${JSON.stringify(cfg.user)},`,
      `    "password": ${JSON.stringify(cfg.password)},`,
      '    "ssid": wifi_ssid,',
      '    "wifi_pw": wifi_pass,',
      '}',
      `mqrepl_config = {"prefix": ${JSON.stringify(cfg.prefix)}}`,
      'modules = ["mqrepl", "watchdog"]',
      '',
    ].join('\n'),
  );
  mkdirSync(path.join(dir, 'safemode'));
  for (const [n, t] of Object.entries(SAFEMODE)) writeFileSync(path.join(dir, 'safemode', n), t);
}

/** A TCP port nothing listens on. */
async function closedPort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

describe('what an install sends and writes', () => {
  it('sends the framework copy to /lib and the boot files except boot.py, from the package README table', () => {
    const files = packageFiles().map((f) => f.board);
    expect(files).toEqual(expect.arrayContaining(['/lib/device.py', '/lib/mqtt.py', '/lib/runner.py', '/lib/board_esp32.py', '/main.py', '/bootmode.py']));
    expect(files).not.toContain('/boot.py');
    // On a migrated board /safemode is the original's: nothing of ours goes there.
    expect(files.some((f) => f.startsWith('/safemode'))).toBe(false);
    expect(files).not.toContain('/lib/board_unix.py');
  });

  it('finds every file of the package in the README table, so a new module cannot be left off a migrated board', () => {
    const readme = readFileSync(path.join(DEFAULT_PACKAGE_DIR, 'README.md'), 'utf8');
    const listed = new Set([...readme.matchAll(/^\|\s*`([\w.]+\.py)`\s*\|/gm)].map((m) => m[1]));
    const onDisk = readdirSync(DEFAULT_PACKAGE_DIR).filter((n) => n.endsWith('.py'));
    expect(onDisk.filter((n) => !listed.has(n))).toEqual([]);
  });

  it('sends each config-reading eval in one message, and the simulator knows the migration boot by its first line', () => {
    expect(new TextEncoder().encode(READ_CONFIG).length).toBeLessThan(1398);
    expect(MIGRATION_BOOT.startsWith(`${MIGRATION_MARKER}\n`)).toBe(true);
    expect(SIMULATOR_MARKER).toBe(MIGRATION_MARKER);
  });

  it('says in words what the board did not tell and which option gives it', () => {
    const made = packageConfig('esp32/x', parseOriginalConfig(`'${JSON.stringify({ files: [], user: 'u' })}'`), {});
    expect('missing' in made && describeMissing(made.missing)).toBe(
      "the board's config does not say the broker's address as the board reaches it (give --server), the Wi-Fi network name (give --wifi-ssid), " +
        'the Wi-Fi password (an empty one for an open network) (give --wifi-password)',
    );
    const given = packageConfig('esp32/x', { files: [] }, { server: 'mqtt.lan', wifiSsid: 'n', wifiPassword: '' });
    expect('config' in given && given.config).toMatchObject({ prefix: 'esp32/x', server: 'mqtt.lan', port: 1883, tls: false, wifi: { ssid: 'n', password: '' } });
  });

  it('ignores values of the wrong type in what the board replies', () => {
    const c = parseOriginalConfig(`'${JSON.stringify({ files: ['/board_config.py'], server: 7, port: 99999, ssid: ['x'], wdt: 'long' })}'`);
    expect(c).toEqual({ files: ['/board_config.py'] });
  });
});

describe.skipIf(pythonMissing)('installing the package on an original board over MQTT', () => { // skipped without python3, which runs the original-board simulator: apt-get install python3 (CI installs it)
  const credentials = randomCredentials('install');
  let broker: EmbeddedBroker;
  let engine: Engine;
  const boards: OriginalBoard[] = [];
  const roots: { dir: string; remove(): void }[] = [];
  const consoles = new Map<string, string[]>();

  async function board(prefix: string, opts: { firmware?: string } = {}): Promise<{ board: OriginalBoard; root: string }> {
    const root = tempDir('install');
    roots.push(root);
    originalRoot(root.dir, { host: broker.host, port: broker.port, ...{ user: credentials.username, password: credentials.password }, prefix });
    const lines: string[] = [];
    consoles.set(prefix, lines);
    const b = await startOriginalBoard({
      url: broker.url,
      prefix,
      root: root.dir,
      ...credentials,
      watchdogIntervalMs: 500,
      allokMs: 60_000,
      rebootDelayMs: 100,
      packageBootWatchdogMs: 5_000,
      // Flashed with a MicroPython the package runs on (the original's boards ran 1.12).
      firmware: opts.firmware ?? 'v1.24.1-mqboard',
      onLog: (l) => lines.push(l),
    });
    boards.push(b);
    await waitForDevices(engine, () => engine.device(prefix)?.presence === 'online');
    return { board: b, root: root.dir };
  }

  beforeAll(async () => {
    broker = await startEmbeddedBroker({ auth: credentials });
    engine = createEngine({ timeoutMs: 20_000 });
    await engine.connect({ url: broker.url, ...credentials, discovery: { depths: [2] } });
  });
  afterAll(async () => {
    await engine?.disconnect();
    for (const b of boards) await b.stop();
    await broker?.close();
    for (const r of roots) r.remove();
  });

  it('comes back as an MQBoard MicroPython device that kept its broker, prefix and Wi-Fi, with the original safe mode kept', async () => {
    const P = 'greenhouse/esp32-a';
    const { root } = await board(P);
    expect(engine.device(P)?.kind).toBe('original');
    const steps: InstallStep[] = [];
    const r = await installOnOriginalBoard(engine, P, { waitMs: 60_000, onStep: (s) => steps.push(s) });

    expect(r.device.runtime?.kind).toBe('mqboard-micropython');
    expect(r.device.mode).toBe('normal');
    expect(steps[0]).toEqual({ step: 'read-config', files: ['/board_config.py'] });
    expect(steps.map((s) => s.step)).toEqual(expect.arrayContaining(['put', 'switch', 'reset', 'wait', 'back']));
    // What the command reports never holds a secret.
    expect(JSON.stringify(r)).not.toContain(credentials.password);
    expect(JSON.stringify(r)).not.toContain('tomatoes4ever');

    // The package answers now: its eval, and its native file commands on the board's files.
    expect(await engine.eval(P, 'sum(range(10))')).toBe('45');
    const cfg = JSON.parse(Buffer.from(await engine.get(P, '/config.json')).toString()) as Record<string, unknown>;
    expect(cfg).toMatchObject({
      prefix: P,
      server: broker.host,
      port: broker.port,
      user: credentials.username,
      password: credentials.password,
      wifi: { ssid: 'greenhouse-net', password: 'tomatoes4ever' },
    });
    // The original's boot files are kept, its safe-mode copy untouched.
    expect(readFileSync(path.join(root, KEPT_ORIGINAL.boot.slice(1)), 'utf8')).toBe(ORIGINAL_BOOT);
    expect(readFileSync(path.join(root, KEPT_ORIGINAL.main.slice(1)), 'utf8')).toBe(ORIGINAL_MAIN);
    for (const [n, t] of Object.entries(SAFEMODE)) expect(readFileSync(path.join(root, 'safemode', n), 'utf8')).toBe(t);
    expect(readdirSync(path.join(root, 'safemode')).sort()).toEqual(Object.keys(SAFEMODE).sort());
    expect(readFileSync(path.join(root, 'boot.py'), 'utf8')).toBe(MIGRATION_BOOT);
    // No temporary file left behind.
    expect(readdirSync(root).filter((n) => /\.(new|old)$/.test(n))).toEqual([]);
    expect(readdirSync(path.join(root, 'lib')).filter((n) => /\.(new|old)$/.test(n))).toEqual([]);

    // A reset into safe mode from the package reaches the original's safe mode.
    await engine.reset(P, 'safe');
    await waitForDevices(engine, () => consoles.get(P)!.includes('MQBoard migration: starting the original safe mode'));
    await expect.poll(() => engine.eval(P, "getattr(sys.modules.get('__main__'), 'safemode', None)", { timeoutMs: 2_000 }).catch(() => 'no answer'), { timeout: 20_000 }).toBe('True');
  }, 120_000);

  it('says so when the package cannot reach the broker, and the board is back in the original safe mode', async () => {
    const P = 'greenhouse/esp32-b';
    await board(P);
    const port = await closedPort();
    const err = await installOnOriginalBoard(engine, P, { waitMs: 15_000, overrides: { port, watchdogTimeout: 3 } }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(InstallError);
    const e = err as InstallError;
    expect(e.stage).toBe('not-back');
    expect(e.originalAnswers).toBe(true);
    expect(e.message).toContain('did not come back as an MQBoard MicroPython device within 15 s and runs the original framework again (its safe mode)');
    expect(e.message).toContain('/config.json');
    expect(consoles.get(P)).toContain('MQBoard migration: starting the original safe mode');
    // Reachable through the original protocol: eval, and the bad config can be read back.
    expect(await engine.eval(P, "getattr(sys.modules.get('__main__'), 'safemode', None)")).toBe('True');
    const cfg = JSON.parse(Buffer.from(await engine.get(P, '/config.json')).toString()) as { port: number };
    expect(cfg.port).toBe(port);

    // Installed again from the original safe mode, with what the board's own config says: back.
    const again = await installOnOriginalBoard(engine, P, { waitMs: 60_000 });
    expect(again.device.runtime?.kind).toBe('mqboard-micropython');
    expect(await engine.eval(P, '6*7')).toBe('42');
  }, 180_000);

  it('refuses a board whose MicroPython is older than the package needs, and changes nothing on it', async () => {
    const P = 'greenhouse/esp32-old';
    const { root } = await board(P, { firmware: 'v1.12-mqboard' });
    const e = (await installOnOriginalBoard(engine, P, { waitMs: 5_000 }).catch((x: unknown) => x)) as InstallError;
    expect(e).toBeInstanceOf(InstallError);
    expect(e.stage).toBe('firmware');
    expect(e.message).toBe(
      'greenhouse/esp32-old runs MicroPython 1.12; the package needs 1.22 or newer: update its firmware first (an ESP32 build with app rollback, sent with `mqboard ota`, then a reset), then install again; nothing was changed on the board',
    );
    expect(readFileSync(path.join(root, 'boot.py'), 'utf8')).toBe(ORIGINAL_BOOT);
    expect(readdirSync(root).includes('lib')).toBe(false);
  }, 60_000);

  it('refuses a device that runs an MQBoard runtime rather than the original code', async () => {
    const P = 'greenhouse/node-dev';
    const root = tempDir('install-node');
    roots.push(root);
    const dev = await startDevice({ url: broker.url, ...credentials, prefix: P, root: root.dir });
    try {
      await waitForDevices(engine, () => engine.device(P)?.presence === 'online');
      const e = (await installOnOriginalBoard(engine, P, { waitMs: 5_000 }).catch((x: unknown) => x)) as InstallError;
      expect(e).toBeInstanceOf(InstallError);
      expect(e.stage).toBe('not-original');
      expect(e.message).toMatch(/^greenhouse\/node-dev runs an MQBoard runtime \(.+\), not the original MQBoard code: nothing to migrate$/);
    } finally {
      await dev.stop();
    }
  }, 60_000);

  it('refuses a board whose config lacks what the package needs, and changes nothing on it', async () => {
    const P = 'greenhouse/esp32-c';
    const { root } = await board(P);
    writeFileSync(path.join(root, 'board_config.py'), 'mqtt_config = {"user": "x"}\n');
    const e = (await installOnOriginalBoard(engine, P, { waitMs: 5_000 }).catch((x: unknown) => x)) as InstallError;
    expect(e).toBeInstanceOf(InstallError);
    expect(e.stage).toBe('missing-config');
    expect(e.message).toContain('give --server');
    expect(e.message).toContain('give --wifi-ssid');
    expect(e.message).toContain('nothing was changed on the board');
    expect(readFileSync(path.join(root, 'boot.py'), 'utf8')).toBe(ORIGINAL_BOOT);
    expect(readdirSync(root).includes('lib')).toBe(false);
  }, 60_000);
});
