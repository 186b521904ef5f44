// A simulated original board that was migrated to the MicroPython package: its boot follows the
// migration boot.py's rule, runs the package on the real interpreter (WebAssembly port) in normal
// mode, and falls back to the original safe mode as a board would. The board's root is laid out
// here as `mqboard board install` leaves it (that install itself is tested through the engine in
// electron/src/engine/board-install.test.ts).
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmbeddedBroker, type EmbeddedBroker } from '../../../testing/brokers';
import { tmpRoot } from '../test-support/tmp-root';
import { startOriginalBoard, type OriginalBoard } from './board';
import { decideMigratedBoot, isMigrated, MIGRATION_MARKER } from './package-boot';
import { TestCli } from './test-client';
// eslint-disable-next-line no-restricted-imports -- the files the installer sends, from the one list it reads
import { packageFiles } from '../../../electron/src/engine/board-install';

const pythonMissing = spawnSync('python3', ['--version']).status === 0 ? undefined : 'python3 is missing: original-board simulator tests skipped';

/** A root as the installer leaves it: our framework in /lib, the migration boot, the original kept. */
function migratedRoot(dir: string, config: string): void {
  fs.mkdirSync(path.join(dir, 'lib'), { recursive: true });
  fs.mkdirSync(path.join(dir, 'safemode'), { recursive: true });
  for (const f of packageFiles()) fs.copyFileSync(f.local, path.join(dir, f.board));
  fs.writeFileSync(path.join(dir, 'boot.py'), `${MIGRATION_MARKER}\n# (the rest as the installer writes it)\n`);
  fs.writeFileSync(path.join(dir, 'boot_original.py'), '# the original boot.py\n');
  fs.writeFileSync(path.join(dir, 'safemode', 'main.py'), '# the original safe mode\n');
  fs.writeFileSync(path.join(dir, 'config.json'), config);
}

describe('the migrated boot rule', () => {
  const root = tmpRoot('migrated-rule');
  afterAll(() => root.cleanup());

  it('knows a migrated board by the first line of its boot.py', () => {
    migratedRoot(root.dir, '{}');
    expect(isMigrated(root.dir)).toBe(true);
    fs.writeFileSync(path.join(root.dir, 'boot.py'), '# the original boot.py\n');
    expect(isMigrated(root.dir)).toBe(false);
  });

  it("boots normal on blank memory or the original's magic, safe when memory was cleared or our framework is gone", () => {
    migratedRoot(root.dir, '{}');
    expect(decideMigratedBoot(root.dir, { format: 'original', state: 'blank' })).toBe('normal');
    expect(decideMigratedBoot(root.dir, { format: 'original', state: 'magic' })).toBe('normal');
    expect(decideMigratedBoot(root.dir, { format: 'original', state: 'cleared' })).toBe('safe');
    fs.writeFileSync(path.join(root.dir, '.mqboard', 'rtc.json'), JSON.stringify({ mode: 'normal', bootCount: 3 }));
    expect(decideMigratedBoot(root.dir, { format: 'json' })).toBe('safe');
    fs.writeFileSync(path.join(root.dir, '.mqboard', 'rtc.json'), JSON.stringify({ magic: true, bootCount: 3 }));
    expect(decideMigratedBoot(root.dir, { format: 'json' })).toBe('normal');
    fs.rmSync(path.join(root.dir, 'lib', 'device.py'));
    expect(decideMigratedBoot(root.dir, { format: 'original', state: 'blank' })).toBe('safe');
  });
});

describe.skipIf(pythonMissing)('a migrated board in the simulator', () => { // skipped without python3, which runs the original-board simulator: apt-get install python3 (CI installs it)
  let broker: EmbeddedBroker;
  const boards: OriginalBoard[] = [];
  const roots: { cleanup(): void }[] = [];
  beforeAll(async () => {
    broker = await startEmbeddedBroker();
  });
  afterAll(async () => {
    for (const b of boards) await b.stop();
    await broker?.close();
    for (const r of roots) r.cleanup();
  });

  async function start(prefix: string, config: string, firmware = 'v1.24.1-mqboard'): Promise<{ lines: string[]; cli: TestCli }> {
    const root = tmpRoot('migrated');
    roots.push(root);
    migratedRoot(root.dir, config);
    const lines: string[] = [];
    const cli = await TestCli.connect(broker.url, prefix);
    boards.push(await startOriginalBoard({ url: broker.url, prefix, root: root.dir, watchdogIntervalMs: 300, rebootDelayMs: 100, packageBootWatchdogMs: 1_500, firmware, onLog: (l) => lines.push(l) }));
    return { lines, cli };
  }

  it('runs the package from its flash in normal mode: it announces itself with its retained status', async () => {
    const P = 'migrated/good';
    const { cli } = await start(P, JSON.stringify({ prefix: P, server: broker.host, port: broker.port, watchdog: { timeout: 30, allok: 30 } }));
    await cli.subscribe(`${P}/mqb/status`);
    await expect
      .poll(() => cli.seen.filter((m) => m.topic === `${P}/mqb/status`).map((m) => JSON.parse(m.payload.toString()) as { runtime?: { kind: string }; mode?: string }).at(-1), { timeout: 20_000 })
      .toMatchObject({ runtime: { kind: 'mqboard-micropython' }, mode: 'normal' });
    await cli.client.endAsync();
  }, 30_000);

  it('on a MicroPython older than the package needs, goes to the original safe mode at once', async () => {
    const P = 'migrated/old-firmware';
    const { lines, cli } = await start(P, JSON.stringify({ prefix: P, server: broker.host, port: broker.port }), 'v1.12-mqboard');
    await expect.poll(() => lines.includes('MQBoard migration: starting the original safe mode'), { timeout: 10_000 }).toBe(true);
    expect(lines).toContain("ImportError: no module named 'asyncio' (MicroPython 1.12.0)");
    expect(lines.some((l) => l.includes('Reset cause: PWRON_RESET'))).toBe(true);
    await cli.client.endAsync();
  }, 30_000);

  it('with a config the package cannot start with, hangs until the hardware watchdog, then runs the original safe mode', async () => {
    const P = 'migrated/broken';
    const { lines, cli } = await start(P, '{"prefix": "migrated/broken", "port": 1883');
    await expect.poll(() => lines.includes('MQBoard migration: starting the original safe mode'), { timeout: 20_000 }).toBe(true);
    expect(lines.some((l) => l.includes('config.json:'))).toBe(true);
    const from = lines.indexOf('MQBoard migration: starting the original safe mode');
    await expect.poll(() => lines.slice(from).some((l) => l.includes(`mqrepl: Subscribed to ${P}/mqb/cmd/#`)), { timeout: 10_000 }).toBe(true);
    // The original framework answers again, in its safe mode.
    const r = await cli.perform('eval', "getattr(sys.modules.get('__main__'), 'safemode', None)", { timeoutMs: 10_000 });
    expect(r.text).toBe('True');
    await cli.client.endAsync();
  }, 30_000);
});
