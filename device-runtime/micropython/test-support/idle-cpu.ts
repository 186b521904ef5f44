// Measures the idle CPU of one MicroPython board in the WebAssembly port as the demo fleet would
// run it (demo watchdog, tags), in a process of its own, against an embedded broker with
// credentials: utime+stime from /proc/<pid>/stat over 30 s once it has been online for 10 s.
//   npx tsx device-runtime/micropython/test-support/idle-cpu.ts [watchdog timeout in s, default 60]
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startEmbeddedBroker } from '../../../testing/brokers';
// eslint-disable-next-line no-restricted-imports -- measured through the host's own engine and the demo's credentials
import { createEngine } from '../../../electron/src/engine';
// eslint-disable-next-line no-restricted-imports -- the demo broker's credentials, as the app makes them
import { randomCredentials } from '../../../electron/src/broker/embedded';
import { startMicroPythonDevice } from '../../src/micropython-wasm/device';

const P = 'lab/esp32-micropython';
const CLOCK_TICKS = 100;

if (process.argv[2] === '--board') {
  const [, , , port, username, password, timeout] = process.argv;
  const root = mkdtempSync(path.join(os.tmpdir(), 'mpy-idle-'));
  const board = await startMicroPythonDevice({
    server: '127.0.0.1', port: Number(port), prefix: P, root, username, password,
    config: { tags: ['lab', 'micropython', 'esp32'], watchdog: { timeout: Number(timeout), allok: 15, revert: false } },
  });
  process.on('SIGTERM', () => void board.stop().then(() => (rmSync(root, { recursive: true, force: true }), process.exit(0))));
} else {
  const credentials = randomCredentials('idle-cpu');
  const broker = await startEmbeddedBroker({ auth: credentials });
  const engine = createEngine();
  await engine.connect({ url: broker.url, ...credentials, discovery: { depths: [2] } });
  const me = fileURLToPath(import.meta.url);
  const timeout = process.argv[2] ?? '60';
  const child = spawn(process.execPath, ['--import', 'tsx', me, '--board', String(broker.port), credentials.username, credentials.password, timeout], { stdio: 'inherit' });
  const ticks = () => {
    const f = readFileSync(`/proc/${child.pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return Number(f[11]) + Number(f[12]);
  };
  await new Promise<void>((resolve) => {
    const off = engine.on('devices', () => {
      if (engine.device(P)?.presence === 'online') {
        off();
        resolve();
      }
    });
  });
  await new Promise((r) => setTimeout(r, 10_000));
  const a = ticks();
  const t0 = performance.now();
  await new Promise((r) => setTimeout(r, 30_000));
  const cpu = (ticks() - a) / CLOCK_TICKS;
  const s = (performance.now() - t0) / 1000;
  const rss = readFileSync(`/proc/${child.pid}/status`, 'utf8').match(/VmRSS:\s+(\d+)/)?.[1];
  console.log(`watchdog ${timeout} s: idle CPU over ${s.toFixed(1)} s: ${cpu.toFixed(2)} s = ${((cpu / s) * 100).toFixed(2)} % of one core; RSS ${rss} kB; load average ${os.loadavg().map((x) => x.toFixed(1)).join(' ')}`);
  child.kill('SIGTERM');
  await new Promise((r) => child.once('exit', r));
  await engine.disconnect();
  await broker.close();
}
