// `npm run bench:cli`: how long the `mqboard` CLI takes from start to exit, as a user runs it
// (the build bin/build-cli.mjs makes, which bin/mqboard.mjs runs) and from the TypeScript
// sources through tsx (bin/mqboard.mjs with MQBOARD_FROM_SOURCE=1), next to bare `node -e 0`.
// `eval` goes to a device of our runtime on an aedes broker on loopback, both in this process. Goals: `--help` within
// 2x of `node -e 0`, `eval '1+1'` under 250 ms. Wall-clock times of MQB_BENCH_CLI_RUNS runs
// (default 15) after one warm-up; the minimum is the least disturbed by other work on the machine.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startDevice } from '../device-runtime/src';
import { startEmbeddedBroker } from '../testing/brokers';

const RUNS = Number(process.env.MQB_BENCH_CLI_RUNS ?? 15);
const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const bin = path.join(repo, 'bin/mqboard.mjs');
/**
 * The build itself. bin/mqboard.mjs runs it only while it is newer than every source (else it
 * runs the sources through tsx), so with sources being edited meanwhile the bin would time tsx
 * under the build's name; the bin's own cost on top is one stat per source file.
 */
const bundle = path.join(repo, 'out/cli/mqboard.mjs');

const built = spawnSync(process.execPath, [path.join(repo, 'bin/build-cli.mjs')], { encoding: 'utf8' });
if (built.status !== 0) throw new Error(`build failed: ${built.stderr}`);

const broker = await startEmbeddedBroker();
const root = mkdtempSync(path.join(os.tmpdir(), 'mqb-bench-cli-'));
const device = await startDevice({ url: broker.url, prefix: 'bench/cli', root });
const env = { ...process.env, MQBOARD_SERVER: '127.0.0.1', MQBOARD_PORT: String(broker.port), MQBOARD_PREFIX: 'bench/cli' };

/** Runs the command asynchronously (the device answers from this process) and times it. */
async function time(args: string[], extraEnv: Record<string, string> = {}): Promise<number> {
  const t0 = performance.now();
  const code = await new Promise<number | null>((resolve) => {
    const c = spawn(process.execPath, args, { env: { ...env, ...extraEnv }, stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    c.stderr.on('data', (d: Buffer) => (err += d));
    c.on('close', (code) => {
      if (code !== 0) process.stderr.write(`${args.join(' ')}: exit ${code}: ${err}`);
      resolve(code);
    });
  });
  const ms = performance.now() - t0;
  if (code !== 0) throw new Error(`${args.join(' ')} failed`);
  return ms;
}

interface Row {
  what: string;
  minMs: number;
  medianMs: number;
}

async function measure(what: string, args: string[], extraEnv: Record<string, string> = {}): Promise<Row> {
  await time(args, extraEnv);
  const all: number[] = [];
  for (let i = 0; i < RUNS; i++) all.push(await time(args, extraEnv));
  all.sort((a, b) => a - b);
  return { what, minMs: all[0]!, medianMs: all[Math.floor(all.length / 2)]! };
}

try {
  const rows: Row[] = [];
  rows.push(await measure('node -e 0', ['-e', '0']));
  rows.push(await measure('mqboard --help (built)', [bundle, '--help']));
  rows.push(await measure("mqboard eval '1+1' (built)", [bundle, 'eval', '1+1']));
  rows.push(await measure('mqboard --help (sources, tsx)', [bin, '--help'], { MQBOARD_FROM_SOURCE: '1' }));
  rows.push(await measure("mqboard eval '1+1' (sources, tsx)", [bin, 'eval', '1+1'], { MQBOARD_FROM_SOURCE: '1' }));

  console.log(`mqboard start-up, ${RUNS} runs each (ms)`);
  console.log(`  ${'command'.padEnd(36)} ${'min'.padStart(7)} ${'median'.padStart(7)}`);
  for (const r of rows) console.log(`  ${r.what.padEnd(36)} ${r.minMs.toFixed(0).padStart(7)} ${r.medianMs.toFixed(0).padStart(7)}`);
  const [bare, help, evalBuilt] = rows;
  const ratio = help!.medianMs / bare!.medianMs;
  console.log(`\n  --help / node -e 0 (median): ${ratio.toFixed(2)}x  (goal: at most 2x) ${ratio <= 2 ? 'ok' : 'MISSED'}`);
  console.log(`  eval (median): ${evalBuilt!.medianMs.toFixed(0)} ms  (goal: under 250 ms) ${evalBuilt!.medianMs < 250 ? 'ok' : 'MISSED'}`);
  console.log(`  load average now: ${os.loadavg().map((l) => l.toFixed(1)).join(' ')} on ${os.cpus().length} CPUs`);
} finally {
  await device.stop();
  await broker.close();
  rmSync(root, { recursive: true, force: true });
}
