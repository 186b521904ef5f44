// Seeded inputs for fuzzing the decoders (decoders.fuzz.test.ts, bench/fuzz.bench.ts): random
// bytes, mutations of valid wire samples, and pathological strings built to make a parser
// backtrack, recurse or allocate (long runs of spaces and colons, deep brackets, huge numbers).
// The same seed gives the same inputs everywhere, so a failure names an input one can replay.
import { concatBytes, utf8 } from '../bytes';

export type Rng = () => number;

/** mulberry32: a tiny, fast 32-bit generator; plenty for picking inputs, no use for secrets. */
export function mulberry32(seed: number): Rng {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export const randInt = (rng: Rng, n: number): number => Math.floor(rng() * n);
export const pick = <T>(rng: Rng, xs: readonly T[]): T => xs[randInt(rng, xs.length)]!;

/**
 * A length up to `max`, mostly short: most bugs show on small inputs, and the long ones are
 * what a size cap is for, so a few go right up to and past it.
 */
export function randLength(rng: Rng, max: number): number {
  const r = rng();
  if (r < 0.7) return randInt(rng, Math.min(max, 256) + 1);
  if (r < 0.95) return randInt(rng, max + 1);
  return max + randInt(rng, max + 1);
}

export function randomBytes(rng: Rng, max: number): Uint8Array {
  const out = new Uint8Array(randLength(rng, max));
  for (let i = 0; i < out.length; i += 4) {
    const r = (rng() * 4294967296) >>> 0;
    for (let k = 0; k < 4 && i + k < out.length; k++) out[i + k] = (r >>> (8 * k)) & 0xff;
  }
  return out;
}

/** Pieces a parser may choke on when repeated: whitespace, separators, openers, escapes, digits. */
const UNITS = [' ', ':', ': ', '  :', '\t', '\r\n', '[', '{', '{"a":', '[{"a":[', '"', '\\', '\\u', '9', '0.', 'e9', ',', '?', '&size=', '/', '//', '/mqb/reply/out/', 'SEQ ', 'é', '\u2028', '\u0000', '\ufffd', '😀', 'a', '.*', '(', ')*'];

/** Valid starts, so the parser gets past its first checks before it meets the repetition. */
const HEADS = ['', 'I 1', 'I 1 ', 'E 12:01:02.345 ', 'W 1394     main:', '{"online":true,', '{"crashes":[', '{"path":"/","entries":[', '{"op":"open","cols":', '{"window":', 'SEQ ', '/lib/a.py?sha256=', 'p/mqb/reply/out/', 'p/mqb/cmd/put/', 'p/mqb/term/'];
const TAILS = ['', 'x', ': x', ':', '}', ']}', '"}', '1', '\n', '/x', '/out', '$'];

/** Huge, tiny and malformed numbers, where a decoder might trust a length or loop on a value. */
const NUMBERS = ['1'.repeat(400), '-0', '1e999999', '-1e-999999', '9007199254740993', '0x10', 'NaN', '1.5e308', '4294967296', '-1'];

export function pathological(rng: Rng, max: number): Uint8Array {
  const unit = pick(rng, UNITS);
  const n = Math.max(1, Math.floor(randLength(rng, max) / unit.length));
  const kind = randInt(rng, 4);
  if (kind === 0) return utf8(pick(rng, HEADS) + unit.repeat(n) + pick(rng, TAILS));
  // Nested brackets, closed or not: recursion depth for a recursive parser.
  if (kind === 1) {
    const depth = Math.max(1, Math.floor(n / 2));
    return utf8(pick(rng, HEADS) + '['.repeat(depth) + (rng() < 0.5 ? ']'.repeat(depth) : '') + pick(rng, TAILS));
  }
  if (kind === 2) return utf8(`${pick(rng, HEADS)}${pick(rng, NUMBERS)}${pick(rng, TAILS)}`);
  // Two units interleaved: `: : : :` and `{"a":{"a":` defeat parsers that only guard one.
  const other = pick(rng, UNITS);
  return utf8(pick(rng, HEADS) + (unit + other).repeat(Math.max(1, Math.floor(n / 2))) + pick(rng, TAILS));
}

/** A valid sample changed a little: a flipped byte, a cut, an insertion or a stretch repeated. */
export function mutate(rng: Rng, sample: Uint8Array, max: number): Uint8Array {
  let b = sample;
  const edits = 1 + randInt(rng, 4);
  for (let e = 0; e < edits; e++) {
    const at = randInt(rng, b.length + 1);
    const op = randInt(rng, 6);
    if (op === 0 && b.length) {
      b = b.slice();
      b[Math.min(at, b.length - 1)] = randInt(rng, 256);
    } else if (op === 1) {
      b = b.slice(0, at);
    } else if (op === 2) {
      b = concatBytes([b.subarray(0, at), utf8(pick(rng, [...UNITS, ...NUMBERS])), b.subarray(at)]);
    } else if (op === 3) {
      const end = Math.min(b.length, at + 1 + randInt(rng, 16));
      b = concatBytes([b.subarray(0, at), b.subarray(end)]);
    } else if (op === 4 && b.length) {
      // Repeat a stretch until the whole reaches a random length: long runs inside valid framing.
      const s = Math.min(at, b.length - 1);
      const stretch = b.subarray(s, Math.min(b.length, s + 1 + randInt(rng, 8)));
      const times = Math.max(1, Math.floor((randLength(rng, max) - b.length) / stretch.length));
      b = concatBytes([b.subarray(0, s), repeatBytes(stretch, Math.min(times, max)), b.subarray(s)]);
    } else {
      b = concatBytes([b.subarray(0, at), randomBytes(rng, 16), b.subarray(at)]);
    }
  }
  return b;
}

function repeatBytes(b: Uint8Array, times: number): Uint8Array {
  const out = new Uint8Array(b.length * times);
  for (let i = 0; i < times; i++) out.set(b, i * b.length);
  return out;
}

export type InputKind = 'random' | 'mutated' | 'pathological';

/** The next input of a run: a fifth random bytes, the rest mutated samples and pathological strings. */
export function nextInput(rng: Rng, samples: readonly Uint8Array[], max: number): { kind: InputKind; bytes: Uint8Array } {
  const r = rng();
  if (r < 0.2) return { kind: 'random', bytes: randomBytes(rng, max) };
  if (r < 0.6 && samples.length) return { kind: 'mutated', bytes: mutate(rng, pick(rng, samples), max) };
  return { kind: 'pathological', bytes: pathological(rng, max) };
}
