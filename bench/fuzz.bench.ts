// `npm run bench:fuzz`: every decoder of wire input (protocol/src/fuzz/targets.ts) fed 100,000
// seeded inputs, up to twice its size cap, reporting its slowest input. The target is that no
// input costs a decoder 5 ms: one message must never stall the host's event loop. A slow input
// is timed again (best of 5) before it counts, so a garbage collection that happened to fall
// into one call is not blamed on the input. Typed results are checked too, as in the CI suite
// (protocol/src/decoders.fuzz.test.ts), which runs a few thousand inputs per decoder.
// Random inputs are almost never both valid and at the cap, so each decoder's extremes (valid
// inputs within the cap built to cost the most) are timed too. The machine may be shared: each
// row says the load average, and a slow input's CPU time beside its wall time tells a call that
// waited for the CPU from one that used it.
import { loadavg } from 'node:os';
import { mulberry32, nextInput, type InputKind } from '../protocol/src/fuzz/inputs';
import { FUZZ_TARGETS, type FuzzTarget } from '../protocol/src/fuzz/targets';

const INPUTS = Number(process.env.MQB_BENCH_FUZZ_INPUTS ?? 100_000);
const SEED = Number(process.env.MQB_BENCH_FUZZ_SEED ?? 0x6d7162);
const ONLY = process.env.MQB_BENCH_FUZZ_ONLY;
const BUDGET_MS = 5;
/** How many of the slowest first timings get timed again. */
const RETIME = 8;
/**
 * Runs per extreme: there are only a few, and under load a best of 5 still caught a preempted
 * call (5.7 ms of wall time for 3.5 ms of CPU time).
 */
const EXTREME_RUNS = 20;

interface Timed {
  index: number;
  kind: InputKind;
  bytes: Uint8Array;
  ms: number;
}

function timeOnce(t: FuzzTarget, b: Uint8Array): number {
  const t0 = performance.now();
  t.run(b);
  return performance.now() - t0;
}

/** The best wall time of `n` runs, and the best CPU time (this process's, all threads). */
function bestOf(t: FuzzTarget, b: Uint8Array, n: number): { ms: number; cpuMs: number } {
  let ms = Infinity;
  let cpuMs = Infinity;
  for (let i = 0; i < n; i++) {
    const cpu0 = process.cpuUsage();
    ms = Math.min(ms, timeOnce(t, b));
    const cpu = process.cpuUsage(cpu0);
    cpuMs = Math.min(cpuMs, (cpu.user + cpu.system) / 1000);
  }
  return { ms, cpuMs };
}

const load = (): string => `load ${loadavg()[0]!.toFixed(1)}`;

/** The first bytes, printable: enough to recognise the input's shape. */
function preview(b: Uint8Array): string {
  const s = JSON.stringify(new TextDecoder().decode(b.subarray(0, 40)));
  return b.length > 40 ? `${s}…` : s;
}

const rows: string[] = [];
let failures = 0;
let overBudget = 0;
const started = performance.now();
for (const t of FUZZ_TARGETS) {
  if (ONLY && !t.name.includes(ONLY)) continue;
  const rng = mulberry32(SEED);
  const slowest: Timed[] = [];
  let total = 0;
  let bad = 0;
  let firstBad = '';
  for (let i = 0; i < INPUTS; i++) {
    const input = nextInput(rng, t.samples, t.cap);
    const t0 = performance.now();
    let verdict: string | undefined;
    try {
      verdict = t.run(input.bytes);
    } catch (e) {
      verdict = `threw ${e instanceof Error ? e.message : String(e)}`;
    }
    const ms = performance.now() - t0;
    total += ms;
    if (verdict) {
      bad++;
      firstBad ||= `input ${i} (${input.kind}, ${input.bytes.length} bytes): ${verdict}`;
    }
    if (slowest.length < RETIME || ms > slowest[slowest.length - 1]!.ms) {
      slowest.push({ index: i, ...input, ms });
      slowest.sort((a, b) => b.ms - a.ms);
      slowest.length = Math.min(slowest.length, RETIME);
    }
  }
  const retimed = slowest.map((s) => ({ ...s, ...bestOf(t, s.bytes, 5) })).sort((a, b) => b.ms - a.ms);
  const worst = retimed[0]!;
  const over = retimed.filter((s) => s.ms >= BUDGET_MS).length;
  overBudget += over;
  failures += bad;
  rows.push(
    [
      t.name.padEnd(16),
      `${(total / INPUTS).toFixed(3)} ms avg`.padStart(14),
      `slowest ${worst.ms.toFixed(2)} ms`.padStart(18),
      `(CPU ${worst.cpuMs.toFixed(2)} ms, ${load()}; input ${worst.index}, ${worst.kind}, ${worst.bytes.length} bytes, cap ${t.cap}: ${preview(worst.bytes)})`,
      over ? `  OVER ${BUDGET_MS} ms: ${over}` : '',
      bad ? `  UNTYPED: ${bad}, first ${firstBad}` : '',
    ].join(' '),
  );
  console.log(rows[rows.length - 1]);
  for (const x of t.extremes ?? []) {
    const verdict = t.run(x.bytes);
    if (verdict) failures++;
    const b = bestOf(t, x.bytes, EXTREME_RUNS);
    if (b.ms >= BUDGET_MS) overBudget++;
    rows.push(
      `${''.padEnd(16)} ${'at the cap'.padStart(14)} ${`${b.ms.toFixed(2)} ms`.padStart(18)} (CPU ${b.cpuMs.toFixed(2)} ms, ${load()}; ${x.name}, ${x.bytes.length} bytes)` +
        (b.ms >= BUDGET_MS ? `  OVER ${BUDGET_MS} ms` : '') +
        (verdict ? `  UNTYPED: ${verdict}` : ''),
    );
    console.log(rows[rows.length - 1]);
  }
}
console.log(
  `\n${INPUTS.toLocaleString('en')} inputs per decoder, seed ${SEED}, ${((performance.now() - started) / 1000).toFixed(1)} s in all; ` +
    `${failures} untyped results or throws; ${overBudget} inputs at or over ${BUDGET_MS} ms (best of 5, extremes best of ${EXTREME_RUNS}); ${load()}`,
);
if (failures) process.exitCode = 1;
