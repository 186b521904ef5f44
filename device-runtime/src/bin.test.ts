// The `mqboard-device` bin as a user runs it: flags, a config file, a fleet, and SIGTERM.
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
  const runBin = (args: string[]) => {
    const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
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

  it('exits 2 with a one-line reason on a bad config', async () => {
    const config = path.join(root.dir, 'bad.json');
    fs.writeFileSync(config, JSON.stringify({ prefix: 'x', port: 'nope' }));
    const { child, stderr } = runBin(['--config', config]);
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    expect(code).toBe(2);
    expect(stderr()).toMatch(/^mqboard-device: invalid config .*port: .*\n$/);
  });
});
