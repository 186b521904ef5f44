// The `mqboard-device` bin as a user (or the app) runs it: flags, a config file, a fleet, a list
// of boards, SIGTERM, and the end of the program that started it.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmbeddedBroker, type EmbeddedBroker } from '../../testing/brokers';
import { text } from '../../protocol/src';
import { connectHost, type TestHost } from './test-support/host';
import { tmpRoot } from './test-support/tmp-root';
import { waitForMessage } from './test-support/wait';

const BIN = path.resolve(import.meta.dirname, '../../bin/mqboard-device.mjs');

describe('mqboard-device bin', () => {
  let broker: EmbeddedBroker;
  let host: TestHost;
  const root = tmpRoot('bin');
  beforeAll(async () => {
    broker = await startEmbeddedBroker();
    host = await connectHost(broker.url);
  });
  afterAll(async () => {
    await host?.close();
    await broker?.close();
    root.cleanup();
  });

  /** Runs the bin; `stderr()` is what it has printed there so far. */
  const runBin = (args: string[], o: { ipc?: boolean } = {}) => {
    const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'ignore', 'pipe', ...(o.ipc ? (['ipc'] as const) : [])] });
    let stderr = '';
    child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
    return { child, stderr: () => stderr };
  };

  /** On SIGTERM the bin publishes `prefix` offline (reason shutdown) and exits 0. */
  const stopsCleanly = async (child: ChildProcess, prefix: string) => {
    const offline = host.status(prefix, (s) => !s.online && s.reason === 'shutdown');
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    await offline;
  };

  it('runs a fleet from a config file plus flags and stops cleanly on SIGTERM', async () => {
    const config = path.join(root.dir, 'device.json');
    fs.writeFileSync(config, JSON.stringify({ server: '127.0.0.1', port: broker.port, root: 'devices', chunk: 4096 }));
    const online = Promise.all(['bin/001', 'bin/002'].map((p) => host.status(p, (s) => s.online, 20_000)));
    const { child, stderr } = runBin(['--config', config, '--prefix', 'bin', '--fleet', '2', '--quiet']);
    try {
      const [s1] = await online;
      expect(s1).toMatchObject({ online: true, capabilities: { maxChunk: 4096 } });
      const r = await host.eval('bin/002', 'device.prefix');
      expect(r.ok && text(r.data)).toBe("'bin/002'");
      expect(fs.existsSync(path.join(root.dir, 'devices', '002'))).toBe(true);
      await stopsCleanly(child, 'bin/001');
    } finally {
      child.kill('SIGKILL');
    }
    expect(stderr()).toBe('');
  });

  it('runs one supervised device with the demo app and stops it cleanly on SIGTERM', async () => {
    const dir = path.join(root.dir, 'single');
    const online = host.status('bin/one', (s) => s.online, 20_000);
    const { child, stderr } = runBin(['-s', '127.0.0.1', '-p', String(broker.port), '--prefix', 'bin/one', '--root', dir, '--demo', '--quiet']);
    try {
      await online;
      await waitForMessage(host.client, 'bin/one/blinky/state', () => true);
      expect(JSON.parse(fs.readFileSync(path.join(dir, 'config.json'), 'utf8'))).toMatchObject({ modules: ['blinky'] });
      await stopsCleanly(child, 'bin/one');
    } finally {
      child.kill('SIGKILL');
    }
    expect(stderr()).toBe('');
  });

  it('keeps a supervised device alive across a reset into safe mode and back', async () => {
    const dir = path.join(root.dir, 'reset');
    const online = host.status('bin/reset', (s) => s.online, 20_000);
    const { child } = runBin(['-s', '127.0.0.1', '-p', String(broker.port), '--prefix', 'bin/reset', '--root', dir, '--quiet']);
    let exitCode: number | null | undefined;
    child.once('exit', (code) => (exitCode = code));
    try {
      await online;
      const safe = host.status('bin/reset', (s) => s.online && s.mode === 'safe', 20_000);
      expect(await host.json('bin/reset', 'reset', '', { mode: 'safe' })).toMatchObject({ ok: true });
      await safe;
      const normal = host.status('bin/reset', (s) => s.online && s.mode === 'normal', 20_000);
      expect(await host.json('bin/reset', 'reset', '', { mode: 'normal' })).toMatchObject({ ok: true });
      await normal;
      expect(exitCode).toBeUndefined();
    } finally {
      child.kill('SIGKILL');
    }
  });

  it('runs the boards of a --devices file, each with its own settings, in runtime processes of their own', async () => {
    const list = path.join(root.dir, 'boards.json');
    const boards = [
      { prefix: 'bin/list/a', root: 'boards/a', firmware: '2.4.1', statusIntervalMs: 5000, simulatedRamBytes: 320 * 1024 },
      { prefix: 'bin/list/b', root: 'boards/b', firmware: '1.9.2', mode: 'safe' },
    ];
    fs.writeFileSync(list, JSON.stringify({ devices: boards }));
    const a = host.status('bin/list/a', (s) => s.online, 20_000);
    const b = host.status('bin/list/b', (s) => s.online, 20_000);
    const { child, stderr } = runBin(['-s', '127.0.0.1', '-p', String(broker.port), '--devices', list, '--quiet']);
    try {
      const sa = await a;
      expect(sa).toMatchObject({ firmware: '2.4.1', mode: 'normal' });
      // An ESP32's memory, not the host's.
      expect(sa.online && sa.freeMem).toBeLessThan(320 * 1024);
      expect(await b).toMatchObject({ firmware: '1.9.2', mode: 'safe' });
      expect(fs.existsSync(path.join(root.dir, 'boards', 'b'))).toBe(true);
      const pidOf = async (prefix: string) => {
        const r = await host.eval(prefix, "this.constructor.constructor('return process')().pid");
        return Number(r.ok && text(r.data));
      };
      const [pa, pb] = [await pidOf('bin/list/a'), await pidOf('bin/list/b')];
      expect(new Set([pa, pb, child.pid]).size).toBe(3);
      await stopsCleanly(child, 'bin/list/b');
    } finally {
      child.kill('SIGKILL');
    }
    expect(stderr()).toBe('');
  });

  it('runs sleepers from --sleep-cycle and from a --devices entry, supervised, and they come back in the same boot', async () => {
    const list = path.join(root.dir, 'sleepers.json');
    fs.writeFileSync(list, JSON.stringify({ devices: [{ prefix: 'bin/sleep/listed', root: 'sleepers/listed', sleepCycleMs: 2000, awakeMs: 300 }] }));
    // Its supervisor's watchdog would reset it in a sleep twice this long, were it not disarmed.
    fs.mkdirSync(path.join(root.dir, 'sleepers', 'listed'), { recursive: true });
    fs.writeFileSync(path.join(root.dir, 'sleepers', 'listed', 'config.json'), JSON.stringify({ watchdog: { timeoutS: 1, initialS: 1 } }));
    /** Online, asleep (saying when it wakes), then online again without a reboot. */
    const cycles = async (prefix: string) => {
      const first = await host.status(prefix, (s) => s.online, 20_000);
      const asleep = await host.status(prefix, (s) => !s.online && s.reason === 'sleep' && s.wake !== undefined);
      const back = await host.status(prefix, (s) => s.online && s.time > (asleep.time ?? 0));
      expect(back).toMatchObject({ bootCount: first.online ? first.bootCount : -1 });
    };
    const flagged = runBin(['-s', '127.0.0.1', '-p', String(broker.port), '--prefix', 'bin/sleep/flag', '--root', path.join(root.dir, 'sleepers', 'flag'), '--sleep-cycle', '1', '--awake', '1', '--quiet']);
    const listed = runBin(['-s', '127.0.0.1', '-p', String(broker.port), '--devices', list, '--quiet']);
    try {
      await Promise.all([cycles('bin/sleep/flag'), cycles('bin/sleep/listed')]);
      // Asleep or awake, a stopped sleeper says it shut down.
      await stopsCleanly(flagged.child, 'bin/sleep/flag');
      await stopsCleanly(listed.child, 'bin/sleep/listed');
    } finally {
      flagged.child.kill('SIGKILL');
      listed.child.kill('SIGKILL');
    }
    expect(flagged.stderr() + listed.stderr()).toBe('');
  });

  it('refuses --awake without --sleep-cycle', async () => {
    const { child, stderr } = runBin(['--prefix', 'x', '--awake', '3']);
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    expect(code).toBe(2);
    expect(stderr()).toBe('mqboard-device: --awake is the idle time of a sleep cycle: it needs --sleep-cycle\n');
  });

  it('says when its boards run and stops them when the program that started it goes', async () => {
    const dir = path.join(root.dir, 'ipc');
    const { child } = runBin(['-s', '127.0.0.1', '-p', String(broker.port), '--prefix', 'bin/ipc', '--root', dir, '--quiet'], { ipc: true });
    try {
      const running = await new Promise<unknown>((resolve) => child.once('message', resolve));
      expect(running).toEqual({ t: 'running', devices: ['bin/ipc'] });
      await host.status('bin/ipc', (s) => s.online, 20_000);
      const offline = host.status('bin/ipc', (s) => !s.online && s.reason === 'shutdown');
      const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
      // What the app's end looks like from here, however it ends: the IPC channel closes.
      child.disconnect();
      expect(await exited).toBe(0);
      await offline;
    } finally {
      child.kill('SIGKILL');
    }
  });

  it('refuses a --devices file that names a board twice', async () => {
    const list = path.join(root.dir, 'twice.json');
    fs.writeFileSync(list, JSON.stringify({ devices: [{ prefix: 'x', root: 'r1' }, { prefix: 'x', root: 'r2' }] }));
    const { child, stderr } = runBin(['--devices', list]);
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    expect(code).toBe(2);
    expect(stderr()).toMatch(/^mqboard-device: invalid devices file .*: prefix x is used twice\n$/);
  });

  it('exits 2 with a one-line reason on a bad config', async () => {
    const config = path.join(root.dir, 'bad.json');
    fs.writeFileSync(config, JSON.stringify({ prefix: 'x', port: 'nope' }));
    const { child, stderr } = runBin(['--config', config]);
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    expect(code).toBe(2);
    expect(stderr()).toMatch(/^mqboard-device: invalid config .*port: .*\n$/);
  });
});
