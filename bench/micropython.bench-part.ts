// The MicroPython package's part of `npm run bench`: a board running it on the real MicroPython
// interpreter (the WebAssembly port, device-runtime/src/micropython-wasm/) against the same
// Mosquitto as the Node runtime, measured in the same run:
//  - put and get of 1.5 MB (an ESP32 app image's size) through the engine, at the board's
//    advertised chunk size, and the Node runtime's device at the same chunk size and file
//    size, interleaved round by round; the ratio is MicroPython's MB/s over Node's;
//  - the package's heap in use after boot, connected and idle (gc.mem_alloc() after
//    gc.collect(); the port is 32-bit like an ESP32, so objects have the same size).
// The WebAssembly figures include the port's socket bridge (every read is a trip through the JS
// event loop), so they bound what the package's code costs, not what a board's radio does.
import { randomBytes } from 'node:crypto';
import os from 'node:os';
import type { Engine } from '../electron/src/engine/types';
import type { Mosquitto } from '../testing/brokers';
import { startMicroPythonDevice } from '../device-runtime/src/micropython-wasm/device';
import { deviceOnline } from './device-fleet';

const SIZE = 1_500_000;
const PREFIX = 'bench/micropython';
const HEAP = 'import gc\ngc.collect()\nprint(gc.mem_alloc(), end="")';

export interface MicropythonRow {
  op: 'put' | 'get';
  chunkBytes: number;
  MBps: number;
  nodeMBps: number;
  /** MicroPython's MB/s over the Node runtime's, same file, chunk size and run. */
  ratio: number;
}

export interface MicropythonResult {
  fileBytes: number;
  rows: MicropythonRow[];
  /** gc.mem_alloc() after gc.collect(), connected and idle. */
  heapAfterBootBytes: number;
  /** The 1, 5 and 15 minute load averages when the part finished (the machine may be shared). */
  loadavg: number[];
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const mbps = (bytes: number, ms: number) => bytes / 1e6 / (ms / 1000);
const round = (n: number, d = 2) => Math.round(n * 10 ** d) / 10 ** d;

/**
 * Runs with the caller's engine and broker, next to its running Node device `nodePrefix`;
 * the board's flash lives under `root`.
 */
export async function benchMicropython(o: { broker: Mosquitto; engine: Engine; nodePrefix: string; root: string; runs: number; step: (s: string) => void }): Promise<MicropythonResult> {
  const { engine } = o;
  const board = await startMicroPythonDevice({ server: '127.0.0.1', port: o.broker.port, prefix: PREFIX, root: o.root });
  try {
    await deviceOnline(engine, PREFIX);
    const heapAfterBootBytes = Number(await engine.eval(PREFIX, HEAP));
    const chunk = engine.device(PREFIX)?.capabilities?.maxChunk ?? 4096;
    const data = randomBytes(SIZE);
    const times = { mpy: { put: [] as number[], get: [] as number[] }, node: { put: [] as number[], get: [] as number[] } };
    for (let i = 0; i < o.runs; i++) {
      for (const [who, prefix] of [['mpy', PREFIX], ['node', o.nodePrefix]] as const) {
        let t0 = performance.now();
        await engine.put(prefix, '/bench-mpy.bin', data, { chunk });
        times[who].put.push(mbps(SIZE, performance.now() - t0));
        t0 = performance.now();
        const back = await engine.get(prefix, '/bench-mpy.bin', { chunk });
        times[who].get.push(mbps(SIZE, performance.now() - t0));
        if (Buffer.compare(Buffer.from(back), data) !== 0) throw new Error(`get from ${prefix} returned different data`);
      }
    }
    const f = (xs: number[]) => xs.map((x) => x.toFixed(2)).join(' ');
    o.step(`  MicroPython put ${f(times.mpy.put)} | get ${f(times.mpy.get)} MB/s; Node put ${f(times.node.put)} | get ${f(times.node.get)} MB/s`);
    const rows = (['put', 'get'] as const).map((op): MicropythonRow => {
      const v = median(times.mpy[op]);
      const n = median(times.node[op]);
      return { op, chunkBytes: chunk, MBps: round(v), nodeMBps: round(n), ratio: round(v / n, 3) };
    });
    return { fileBytes: SIZE, rows, heapAfterBootBytes, loadavg: os.loadavg().map((x) => round(x)) };
  } finally {
    await board.stop();
  }
}

export function printMicropython(r: MicropythonResult, runs: number): void {
  console.log(`\nMicroPython package on the WebAssembly port vs the Node runtime, ${r.fileBytes / 1e6} MB, median of ${runs}\n`);
  console.log('op   chunk  MicroPython MB/s  Node MB/s  ratio');
  for (const x of r.rows) {
    console.log(`${x.op.padEnd(4)} ${String(x.chunkBytes).padStart(6)} ${x.MBps.toFixed(2).padStart(17)} ${x.nodeMBps.toFixed(1).padStart(10)} ${(x.ratio * 100).toFixed(1).padStart(5)}%`);
  }
  console.log(`MicroPython heap in use after boot (connected, idle): ${r.heapAfterBootBytes} bytes; load average ${r.loadavg.join(' ')}`);
}
