// The `mqboard` CLI end to end: the real bin, spawned, against aedes, our device runtime and
// a simulated original board.
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDevice, type DeviceHandle } from '../../../device-runtime/src';
import { startOriginalBoard, type OriginalBoard } from '../../../device-runtime/src/original';
import { startEmbeddedBroker, type EmbeddedBroker } from '../../../testing/brokers';
import { sha256, tempDir } from '../engine/test-support';
import { runCli, spawnCli, type Run } from './test-support';

const P = 'cli/dev';
let broker: EmbeddedBroker;
let device: DeviceHandle;
const work = tempDir('cli');
const root = tempDir('cli-root');

beforeAll(async () => {
  broker = await startEmbeddedBroker();
  device = await startDevice({ url: broker.url, prefix: P, root: root.dir });
});
afterAll(async () => {
  await device?.stop();
  await broker?.close();
  work.remove();
  root.remove();
});

const mqboard = (args: string[], env: Record<string, string> = {}): Promise<Run> => runCli({ cwd: work.dir, port: broker.port, prefix: P }, args, env);

describe('mqboard', () => {
  it('evals an expression', async () => {
    expect(await mqboard(['eval', '40 + 2'])).toMatchObject({ code: 0, stdout: '42\n' });
  });

  it('evals statements and prints the value of the last one', async () => {
    expect(await mqboard(['eval', 'let q = 3; q * 7'])).toMatchObject({ code: 0, stdout: '21\n' });
  });

  it('prints no empty line for statements that print nothing and leave no value', async () => {
    expect(await mqboard(['eval', 'if (false) 1;'])).toMatchObject({ code: 0, stdout: '' });
  });

  it('takes the server, port and prefix as options too', async () => {
    const r = await mqboard(['-s', '127.0.0.1', '--port', String(broker.port), '-p', P, 'eval', '"x".repeat(3)'], { MQBOARD_PREFIX: '', MQBOARD_SERVER: '' });
    expect(r).toMatchObject({ code: 0, stdout: "'xxx'\n" });
  });

  it('puts, lists and gets a file, to stdout and to a local file', async () => {
    const data = randomBytes(100_000);
    writeFileSync(path.join(work.dir, 'blob.bin'), data);
    writeFileSync(path.join(work.dir, 'hello.txt'), 'hello board\n');
    expect((await mqboard(['mkdir', '-p', '/data/x'])).code).toBe(0);
    expect(await mqboard(['put', 'blob.bin', '/data/x/'])).toMatchObject({ code: 0, stdout: 'OK\n' });
    expect((await mqboard(['put', 'hello.txt', '/hello.txt'])).code).toBe(0);
    const ls = await mqboard(['ls', '-r', '/data']);
    expect(ls.stdout.split('\n').map((l) => l.trim())).toEqual(['0 x/', '100000 x/blob.bin', '']);
    expect(await mqboard(['get', '/hello.txt'])).toMatchObject({ code: 0, stdout: 'hello board\n' });
    expect((await mqboard(['get', '/data/x/blob.bin', 'back.bin'])).code).toBe(0);
    expect(sha256(readFileSync(path.join(work.dir, 'back.bin')))).toBe(sha256(data));
    expect((await mqboard(['rm', '-r', '/data'])).code).toBe(0);
  }, 120_000); // nine runs of the CLI, each a Node process

  it('lists devices as JSON with prefix, online and mode', async () => {
    const r = await mqboard(['devices', '--json', '--wait', '0']);
    expect(r.code).toBe(0);
    const list = JSON.parse(r.stdout) as Array<{ prefix: string; online: boolean; mode: string }>;
    expect(list).toContainEqual(expect.objectContaining({ prefix: P, online: true, mode: 'normal' }));
  });

  it('syncs a spec: a dry run changes nothing, a real run puts only what differs', async () => {
    writeFileSync(path.join(work.dir, 'a.py'), 'A = 1\n');
    writeFileSync(path.join(work.dir, 'b.py'), 'B = 1\n');
    writeFileSync(path.join(work.dir, 'spec.txt'), '/app:\n  a.py b.py\n');
    const dry = await mqboard(['sync', '--dry-run', 'spec.txt']);
    expect(dry.stdout).toBe('Target directory /app\n  mkdir /app\n  put  missing ./a.py -> /app/a.py\n  put  missing ./b.py -> /app/b.py\n');
    expect((await mqboard(['ls', '/'])).stdout).not.toContain('app/');
    expect((await mqboard(['sync', 'spec.txt'])).code).toBe(0);
    writeFileSync(path.join(work.dir, 'b.py'), 'B = 2\n');
    const again = await mqboard(['sync', 'spec.txt']);
    expect(again.stdout).toBe('Target directory /app\n  ok   ./a.py\n  put  shadiff ./b.py -> /app/b.py\n');
    expect((await mqboard(['get', '/app/b.py'])).stdout).toBe('B = 2\n');
  }, 120_000); // six runs of the CLI

  it('resets the board (soft) and the board boots again', async () => {
    const boots = device.booted(2);
    expect(await mqboard(['reset', '-s'])).toMatchObject({ code: 0, stdout: 'reset soft: OK\n' });
    await boots;
  });

  it('views the board log, one line per log message, until interrupted', async () => {
    const child = spawnCli({ cwd: work.dir, port: broker.port, prefix: P }, ['view']);
    let out = '';
    const seen = new Promise<void>((resolve) =>
      child.stdout.on('data', (d: Buffer) => {
        out += d;
        if (out.includes('marker-from-test')) resolve();
      }),
    );
    // The device logs a line now and then until `view` (once subscribed) has shown one.
    const poke = setInterval(() => device.log.logger('test').warn('marker-from-test'), 100);
    try {
      await seen;
    } finally {
      clearInterval(poke);
    }
    const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
    child.kill('SIGINT');
    expect(await exited).toBe(0);
    expect(out).toMatch(/^W \S+ +test: marker-from-test$/m);
  });

  it('prints crash records (none on a healthy device)', async () => {
    expect(await mqboard(['crashes'])).toMatchObject({ code: 0, stdout: 'no crash records\n' });
  });

  it('refuses an ota image that is no app bundle before sending it, in words', async () => {
    writeFileSync(path.join(work.dir, 'garbage.bin'), randomBytes(4096));
    const r = await mqboard(['ota', 'garbage.bin']);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe('mqboard: cannot send garbage.bin: not an app bundle: it does not start with a tar header\n');
  });

  it('fails with a non-zero exit and one line saying why', async () => {
    const r = await mqboard(['eval', 'throw new Error("kaput")']);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('mqboard: Error: kaput\n');
    const t = await mqboard(['-T', '0.3', '-p', 'nobody/home', 'eval', '1']);
    expect(t.code).toBe(1);
    expect(t.stderr).toMatch(/^mqboard: eval on nobody\/home: no reply for 0\.3 s\n$/);
    const missing = await mqboard(['eval', '1'], { MQBOARD_PREFIX: '' });
    expect(missing).toMatchObject({ code: 2, stderr: 'mqboard: --prefix or --topic is required (or set MQBOARD_PREFIX)\n' });
  });
});

describe('mqboard with an original board', () => {
  const OP = 'cli/original';
  const QUIET = 'cli/quiet';
  const oroot = tempDir('cli-original');
  let board: OriginalBoard;
  let quiet: OriginalBoard;
  beforeAll(async () => {
    // Feeds its watchdog (its only sign of life on the broker) every 300 ms instead of 20 s.
    board = await startOriginalBoard({ url: broker.url, prefix: OP, root: path.join(oroot.dir, 'a'), watchdogIntervalMs: 300 });
    // And one that feeds as rarely as a stock board: silent for the whole test.
    quiet = await startOriginalBoard({ url: broker.url, prefix: QUIET, root: path.join(oroot.dir, 'b'), watchdogIntervalMs: 60_000 });
  });
  afterAll(async () => {
    await board?.stop();
    await quiet?.stop();
    oroot.remove();
  });

  it('lists it among the devices once it has fed its watchdog within --wait', async () => {
    const r = await mqboard(['devices', '--wait', '1500'], { MQBOARD_PREFIX: '' });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^cli\/original +online +- +original +- +- +-$/m);
    expect(r.stdout).toMatch(/^cli\/dev +online +normal +mqboard /m);
  });

  it('lists a board named with --prefix as online when it answers, without waiting for a feed', async () => {
    const unnamed = await mqboard(['devices', '--json', '--wait', '0'], { MQBOARD_PREFIX: '' });
    expect((JSON.parse(unnamed.stdout) as Array<{ prefix: string }>).map((d) => d.prefix)).not.toContain(QUIET);
    const r = await mqboard(['devices', '--json', '--wait', '0'], { MQBOARD_PREFIX: QUIET });
    expect(r.code).toBe(0);
    const list = JSON.parse(r.stdout) as Array<{ prefix: string; online: boolean; kind: string }>;
    expect(list).toContainEqual(expect.objectContaining({ prefix: QUIET, online: true, kind: 'original' }));
  });

  it('refuses an image without the ESP32 magic byte for it, in words', async () => {
    writeFileSync(path.join(work.dir, 'not-firmware.bin'), Buffer.from('hello, not firmware'));
    const r = await mqboard(['ota', 'not-firmware.bin'], { MQBOARD_PREFIX: OP });
    expect(r.code).toBe(2);
    expect(r.stderr).toBe('mqboard: cannot send not-firmware.bin: not an ESP32 firmware image: first byte is 0x68 not 0xE9\n');
  });
});

describe('mqboard broker', () => {
  /** Starts `mqboard broker ARGS` on a free port; resolves with its port and what it said on stderr. */
  const startBroker = (args: string[], env: Record<string, string> = {}) => {
    const child = spawnCli({ cwd: work.dir, port: 1 }, ['broker', '--port', '0', ...args], env);
    let stdout = '';
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d));
    const listening = new Promise<number>((resolve, reject) => {
      child.stdout.on('data', (d: Buffer) => {
        stdout += d;
        const m = /listening on mqtt:\/\/[^:]+:(\d+)/.exec(stdout);
        if (m) resolve(Number(m[1]));
      });
      child.on('close', (code) => reject(new Error(`broker exited ${code}: ${stderr}`)));
    });
    const stop = async () => {
      const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
      child.kill('SIGTERM');
      return exited;
    };
    return { listening, stop, stderr: () => stderr, stdout: () => stdout };
  };

  it('takes --user with a password file; clients without the password are refused', async () => {
    const pw = path.join(work.dir, 'broker-pw');
    writeFileSync(pw, 's3cret-pw\n');
    const b = startBroker(['--user', 'ops', '--password-file', pw]);
    try {
      const port = await b.listening;
      expect(b.stdout()).toContain('(user ops)');
      expect(b.stderr()).toBe('');
      const ok = await runCli({ cwd: work.dir, port }, ['-u', 'ops', 'devices', '--wait', '0'], { MQBOARD_PASSWORD: 's3cret-pw' });
      expect(ok).toMatchObject({ code: 0, stdout: 'no devices found\n' });
      const bad = await runCli({ cwd: work.dir, port }, ['-u', 'ops', 'devices', '--wait', '0'], { MQBOARD_PASSWORD: 'wrong' });
      expect(bad.code).toBe(1);
      expect(bad.stderr).toMatch(/^mqboard: broker refused the credentials/);
    } finally {
      expect(await b.stop()).toBe(0);
    }
  });

  it('warns loudly when it listens beyond this machine without credentials', async () => {
    const b = startBroker(['--host', '0.0.0.0']);
    try {
      await b.listening;
      expect(b.stderr()).toMatch(/^\*\*\* WARNING: the broker listens on 0\.0\.0\.0 without credentials\./m);
    } finally {
      await b.stop();
    }
    const local = startBroker([]);
    try {
      await local.listening;
      expect(local.stderr()).toBe('');
    } finally {
      await local.stop();
    }
  });

  it('refuses a password without a user name', async () => {
    const r = await runCli({ cwd: work.dir, port: 1 }, ['broker', '--port', '0', '--password', 'x']);
    expect(r).toMatchObject({ code: 2, stderr: 'mqboard: a broker password needs --user\n' });
  });
});
