// Running the real `mqboard` bin in tests, from the TypeScript sources (MQBOARD_FROM_SOURCE: a
// build in out/cli, if any, is not what is under test here; build.test.ts tests that).
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
export const MQBOARD = path.join(repo, 'bin/mqboard.mjs');

export interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface CliEnv {
  cwd: string;
  port: number;
  prefix?: string;
}

export function cliEnv(o: CliEnv, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return { ...process.env, MQBOARD_FROM_SOURCE: '1', MQBOARD_SERVER: '127.0.0.1', MQBOARD_PORT: String(o.port), MQBOARD_PREFIX: o.prefix ?? '', ...extra };
}

export function spawnCli(o: CliEnv, args: string[], extra: Record<string, string> = {}): ChildProcess & { stdout: NodeJS.ReadableStream; stderr: NodeJS.ReadableStream } {
  return spawn(process.execPath, [MQBOARD, ...args], { cwd: o.cwd, env: cliEnv(o, extra), stdio: ['ignore', 'pipe', 'pipe'] }) as never;
}

export function runCli(o: CliEnv, args: string[], extra: Record<string, string> = {}): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawnCli(o, args, extra);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d));
    child.stderr.on('data', (d: Buffer) => (stderr += d));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

export interface PipedRun {
  /** The CLI's exit status. */
  code: number | null;
  stderr: string;
  /** What the reader got. */
  received: Buffer;
}

/**
 * `mqboard ARGS | reader`: the reader is a process of its own that reads nothing until the CLI
 * has exited (or `holdMs` has passed, for a CLI that rightly waits for its reader), so the pipe
 * is full while the CLI finishes; it stops after `maxBytes` when given.
 */
export function runCliPiped(o: CliEnv, args: string[], reader: { holdMs: number; maxBytes?: number }): Promise<PipedRun> {
  const script = `
    const max = ${reader.maxBytes ?? -1};
    const parts = []; let n = 0; let reading = false;
    const read = () => {
      if (reading) return;
      reading = true;
      process.disconnect?.();
      process.stdin.on('data', (d) => {
        parts.push(d); n += d.length;
        if (max >= 0 && n >= max) process.stdout.write(Buffer.concat(parts).subarray(0, max), () => process.exit(0));
      });
      process.stdin.on('end', () => process.stdout.write(Buffer.concat(parts)));
    };
    process.on('message', read);
    setTimeout(read, ${reader.holdMs});`;
  return new Promise((resolve) => {
    // The reader first: the CLI writes into the reader's stdin, a pipe this process never reads.
    const rd = spawn(process.execPath, ['-e', script], { stdio: ['pipe', 'pipe', 'inherit', 'ipc'] });
    const cli = spawn(process.execPath, [MQBOARD, ...args], { cwd: o.cwd, env: cliEnv(o), stdio: ['ignore', rd.stdin!, 'pipe'] });
    // The CLI has its own copy of the pipe: with ours closed the reader sees the end when it exits.
    rd.stdin!.destroy();
    let stderr = '';
    const out: Buffer[] = [];
    cli.stderr!.on('data', (d: Buffer) => (stderr += d));
    rd.stdout!.on('data', (d: Buffer) => out.push(d));
    const cliDone = new Promise<number | null>((r) =>
      cli.on('close', (code) => {
        if (rd.connected) rd.send('read');
        r(code);
      }),
    );
    const rdDone = new Promise<void>((r) => rd.on('close', () => r()));
    void Promise.all([cliDone, rdDone]).then(([code]) => resolve({ code, stderr, received: Buffer.concat(out) }));
  });
}
