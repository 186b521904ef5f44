// Every decoder of wire input, fed a few thousand seeded inputs each (random bytes, mutated
// valid samples, pathological strings): each one returns a typed
// result or a typed error and never throws; the costliest valid inputs within each cap decode.
// Timing is the bench's job (`npm run bench:fuzz`).
import { describe, expect, it } from 'vitest';
import { mulberry32, nextInput } from './fuzz/inputs';
import { FUZZ_TARGETS } from './fuzz/targets';

const SEED = 0x6d7162;
const INPUTS = 2_000;
/** Inputs here stay under 2 × 8 KiB to keep the suite at seconds; the bench goes to each cap. */
const MAX_GENERATED = 8 * 1024;

describe('decoders under fuzzing', () => {
  for (const t of FUZZ_TARGETS) {
    it(`${t.name}: ${INPUTS} inputs, each a typed result or error`, () => {
      const rng = mulberry32(SEED);
      const bad: string[] = [];
      for (let i = 0; i < INPUTS && bad.length < 5; i++) {
        const input = nextInput(rng, t.samples, Math.min(t.cap, MAX_GENERATED));
        let verdict: string | undefined;
        try {
          verdict = t.run(input.bytes);
        } catch (e) {
          verdict = `threw ${e instanceof Error ? e.message : String(e)}`;
        }
        if (verdict) bad.push(`input ${i} (${input.kind}, ${input.bytes.length} bytes): ${verdict}`);
      }
      expect(bad).toEqual([]);
    });
    for (const x of t.extremes ?? []) {
      it(`${t.name}: valid at its cap with ${x.name}, and taken`, () => {
        expect(x.bytes.length).toBeLessThanOrEqual(t.cap);
        expect(t.run(x.bytes)).toBeUndefined();
        expect(t.decode?.(x.bytes)).toMatchObject({ ok: true });
      });
    }
  }
});
