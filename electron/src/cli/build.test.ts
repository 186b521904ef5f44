// The CLI and the device runtime as `npm ci` ships them: built by bin/build-cli.mjs into
// JavaScript (here into a temporary folder, not the checkout's out/cli), then run with plain Node.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmbeddedBroker, type EmbeddedBroker } from '../../../testing/brokers';
import { tempDir } from '../engine/test-support';
import { repo } from './test-support';

const out = tempDir('cli-build');
const root = tempDir('cli-build-root');
const P = 'built/dev';
let broker: EmbeddedBroker;
let build: { status: number | null; stdout: string; stderr: string };

const node = (file: string, args: string[], env: Record<string, string> = {}) =>
  new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    const child = spawn(process.execPath, [path.join(out.dir, file), ...args], {
      env: { ...process.env, MQBOARD_SERVER: '127.0.0.1', MQBOARD_PORT: String(broker.port), MQBOARD_PREFIX: P, ...env },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d));
    child.stderr.on('data', (d: Buffer) => (stderr += d));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });

beforeAll(async () => {
  broker = await startEmbeddedBroker();
  const r = spawnSync(process.execPath, [path.join(repo, 'bin/build-cli.mjs'), '--outdir', out.dir], { encoding: 'utf8' });
  build = { status: r.status, stdout: r.stdout, stderr: r.stderr };
}, 120_000);
afterAll(async () => {
  await broker?.close();
  out.remove();
  root.remove();
});

describe('the built CLI and device runtime', () => {
  it('build without warnings, with a manifest of the sources they were made from', () => {
    expect(build).toMatchObject({ status: 0, stderr: '' });
    const manifest = JSON.parse(readFileSync(path.join(out.dir, 'manifest.json'), 'utf8')) as { startedAt: number; inputs: string[] };
    expect(manifest.inputs).toEqual(expect.arrayContaining(['electron/src/cli/main.ts', 'device-runtime/src/bin.ts', 'device-runtime/src/child.ts']));
    expect(manifest.inputs.some((f) => f.includes('node_modules'))).toBe(false);
  });

  it('print help', async () => {
    const r = await node('mqboard.mjs', ['--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^Usage: mqboard \[options\] \[command\]/);
  });

  it('run a supervised device (its child built too) with the demo app, and talk to it', async () => {
    const dev = spawn(process.execPath, [path.join(out.dir, 'mqboard-device.mjs'), '--server', '127.0.0.1', '--port', String(broker.port), '--prefix', P, '--root', root.dir, '--demo', '-q'], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let devErr = '';
    dev.stderr.on('data', (d: Buffer) => (devErr += d));
    try {
      // The demo app comes from device-runtime/demo, found from the bundle by its source's place.
      expect(existsSync(path.join(root.dir, 'config.json')) || (await waitFor(() => existsSync(path.join(root.dir, 'config.json'))))).toBe(true);
      const pkg = JSON.parse(readFileSync(path.join(repo, 'package.json'), 'utf8')) as { version: string };
      let list: Array<{ prefix: string; online: boolean; runtime: { version: string } | null }> = [];
      await waitFor(async () => {
        const r = await node('mqboard.mjs', ['devices', '--json', '--wait', '0']);
        list = r.code === 0 ? (JSON.parse(r.stdout) as typeof list) : [];
        return list.some((d) => d.prefix === P && d.online);
      });
      // The runtime reads its version from package.json beside its sources.
      expect(list.find((d) => d.prefix === P)?.runtime?.version).toBe(pkg.version);
      expect(await node('mqboard.mjs', ['eval', '1 + 1'])).toMatchObject({ code: 0, stdout: '2\n' });
      // The supervisor forks the built child, not the TypeScript one through tsx.
      if (process.platform === 'linux') {
        const children = readdirSync('/proc')
          .filter((d) => /^\d+$/.test(d))
          .filter((d) => {
            try {
              // Field 4 of /proc/PID/stat is the parent's pid (after the command in parentheses).
              return Number(readFileSync(`/proc/${d}/stat`, 'utf8').replace(/^.*\) /s, '').split(' ')[1]) === dev.pid;
            } catch {
              return false;
            }
          })
          .map((d) => readFileSync(`/proc/${d}/cmdline`, 'utf8').split('\0'));
        expect(children).toEqual([[process.execPath, path.join(out.dir, 'device-child.mjs'), '']]);
      }
    } finally {
      const exited = new Promise<number | null>((resolve) => dev.on('close', resolve));
      dev.kill('SIGTERM');
      expect(await exited, devErr).toBe(0);
    }
  }, 90_000);
});

async function waitFor(pred: () => boolean | Promise<boolean>, ms = 30_000): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await pred()) return true;
    await new Promise((r) => setTimeout(r, 200));
  }
  return false;
}
