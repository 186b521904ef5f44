// `mqboard board install` end to end: the real bin, spawned, against aedes and the simulated
// original board, whose migrated boot runs the MicroPython package in the WebAssembly port.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startOriginalBoard, type OriginalBoard } from '../../../device-runtime/src/original';
import { startEmbeddedBroker, type EmbeddedBroker } from '../../../testing/brokers';
import { tempDir } from '../engine/test-support';
import { overridesFrom } from './board';
import { runCli, type Run } from './test-support';

const pythonMissing = spawnSync('python3', ['--version']).status === 0 ? undefined : 'python3 is missing: original-board simulator tests skipped';

describe('the options of board install', () => {
  it('turns the flags into the board settings they stand for, and refuses a port that is not one', () => {
    expect(overridesFrom({ server: 'mqtt.lan', port: '8883', tls: true, wifiSsid: 'net', wifiPassword: '', wait: '120' })).toEqual({
      server: 'mqtt.lan',
      port: 8883,
      tls: true,
      wifiSsid: 'net',
      wifiPassword: '',
    });
    expect(() => overridesFrom({ port: '70000', wait: '120' })).toThrow('--port must be a whole number from 1 to 65535 (got 70000)');
  });
});

describe.skipIf(pythonMissing)('mqboard board install', () => { // skipped without python3, which runs the original-board simulator: apt-get install python3 (CI installs it)
  let broker: EmbeddedBroker;
  const boards: OriginalBoard[] = [];
  const work = tempDir('cli-install');

  async function originalBoard(prefix: string, config: string | undefined): Promise<string> {
    const root = path.join(work.dir, prefix.replace('/', '-'));
    mkdirSync(path.join(root, 'safemode'), { recursive: true });
    writeFileSync(path.join(root, 'boot.py'), '# the original boot.py\n');
    writeFileSync(path.join(root, 'safemode', 'main.py'), '# the original safe mode\n');
    if (config !== undefined) writeFileSync(path.join(root, 'board_config.py'), config);
    boards.push(await startOriginalBoard({ url: broker.url, prefix, root, watchdogIntervalMs: 500, rebootDelayMs: 100, firmware: 'v1.24.1-mqboard' }));
    return root;
  }
  const mqboard = (prefix: string, args: string[]): Promise<Run> => runCli({ cwd: work.dir, port: broker.port, prefix }, args);

  beforeAll(async () => {
    broker = await startEmbeddedBroker();
  });
  afterAll(async () => {
    for (const b of boards) await b.stop();
    await broker?.close();
    work.remove();
  });

  it('says what the board does not tell, with the option that gives it, and changes nothing', async () => {
    const root = await originalBoard('cli/bare', 'location = "shed"\n');
    const r = await mqboard('cli/bare', ['board', 'install', '--wifi-ssid', 'shed-net']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(
      "mqboard: the board's config does not say the broker's address as the board reaches it (give --server), the Wi-Fi password (an empty one for an open network) (give --wifi-password) (read /board_config.py); nothing was changed on the board",
    );
    expect(readFileSync(path.join(root, 'boot.py'), 'utf8')).toBe('# the original boot.py\n');
  }, 60_000);

  it('migrates a board with what its config says plus the options given, and reports it back', async () => {
    const root = await originalBoard('cli/shed', `mqtt_config = {"server": "127.0.0.1", "port": ${broker.port}}\n`);
    const r = await mqboard('cli/shed', ['board', 'install', '--wifi-ssid', 'shed-net', '--wifi-password', '', '--wait', '60']);
    expect(r.stderr).toContain("read the board's config from /board_config.py");
    expect(r.stderr).toContain('waiting up to 60 s for its status as an MQBoard MicroPython device');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^cli\/shed runs mqboard-micropython \d+\.\d+\.\d+ \(normal mode\)$/m);
    expect(r.stdout).toContain(`broker 127.0.0.1:${broker.port}, Wi-Fi shed-net`);
    expect(JSON.parse(readFileSync(path.join(root, 'config.json'), 'utf8'))).toMatchObject({ prefix: 'cli/shed', wifi: { ssid: 'shed-net', password: '' } });
    const e = await mqboard('cli/shed', ['eval', '6*7']);
    expect(e.stdout).toBe('42\n');
  }, 90_000);
});
