// The `mqboard` CLI end to end: the real bin, spawned, against aedes and our device runtime.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDevice, type DeviceHandle } from '../../../device-runtime/src';
import { startEmbeddedBroker, type EmbeddedBroker } from '../../../testing/brokers';
import { sha256, tempDir } from '../engine/test-support';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
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

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function mqboard(args: string[], env: Record<string, string> = {}): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [path.join(repo, 'bin/mqboard.mjs'), ...args], {
      cwd: work.dir,
      env: { ...process.env, MQBOARD_SERVER: '127.0.0.1', MQBOARD_PORT: String(broker.port), MQBOARD_PREFIX: P, ...env },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d));
    child.stderr.on('data', (d: Buffer) => (stderr += d));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('mqboard', () => {
  it('evals an expression', async () => {
    expect(await mqboard(['eval', '40 + 2'])).toMatchObject({ code: 0, stdout: '42\n' });
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
  });

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
  });

  it('resets the board (soft) and the board boots again', async () => {
    const boots = device.booted(2);
    expect(await mqboard(['reset', '-s'])).toMatchObject({ code: 0, stdout: 'reset soft: OK\n' });
    await boots;
  });

  it('views the board log, one line per log message, until interrupted', async () => {
    const child = spawn(process.execPath, [path.join(repo, 'bin/mqboard.mjs'), 'view'], {
      cwd: work.dir,
      env: { ...process.env, MQBOARD_SERVER: '127.0.0.1', MQBOARD_PORT: String(broker.port), MQBOARD_PREFIX: P },
    });
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
