// The interrupt helper thread reads `ctl` messages with its own copy of the rules (it cannot load
// the protocol's TypeScript): its verdict must be decodeTermControl's, cap included.
import { describe, expect, it } from 'vitest';
import { checkJsonShape, decodeTermControl, MAX_JSON_DEPTH, MAX_OPTIONS_BYTES, OPTIONS_JSON, utf8 } from '../../../protocol/src';
import { mulberry32, nextInput } from '../../../protocol/src/fuzz/inputs';
import { isInterruptControl } from './interrupt';

const LIMIT = { bytes: OPTIONS_JSON.bytes, values: OPTIONS_JSON.values, depth: MAX_JSON_DEPTH };
const worker = (b: Uint8Array) => isInterruptControl(b, LIMIT, checkJsonShape);
const decoder = (b: Uint8Array) => {
  const d = decodeTermControl(b);
  return d.ok && d.value.op === 'interrupt';
};

const INTERRUPT = '{"op":"interrupt"}';

describe('the interrupt helper reading a ctl message', () => {
  it('takes a plain interrupt, and one with fields it does not know (as the decoder does)', () => {
    for (const s of [INTERRUPT, '{"op":"interrupt","why":"Ctrl-C"}', ` ${INTERRUPT}\n`]) {
      expect(worker(utf8(s)), s).toBe(true);
      expect(decoder(utf8(s)), s).toBe(true);
    }
  });

  it('refuses an interrupt padded past the control cap, as the decoder does', () => {
    const padded = utf8(INTERRUPT + ' '.repeat(MAX_OPTIONS_BYTES));
    expect(worker(padded)).toBe(false);
    expect(decodeTermControl(padded)).toMatchObject({ ok: false, error: expect.stringMatching(/terminal control: .*limit/) });
  });

  it('refuses too many values, too deep nesting, bytes that are not UTF-8, and other ops', () => {
    const cases = [
      `{"op":"interrupt","n":[${Array.from({ length: 100 }, (_, i) => i).join(',')}]}`,
      `{"op":"interrupt","n":${'['.repeat(40)}${']'.repeat(40)}}`,
      `[${INTERRUPT}]`,
      '"interrupt"',
      'null',
      '',
      '{"op":"ack","bytes":1}',
      '{"op":"Interrupt"}',
    ].map(utf8);
    cases.push(new Uint8Array([...utf8('{"op":"interrupt","x":"'), 0xff, 0xfe, ...utf8('"}')]));
    for (const c of cases) {
      expect(worker(c), Buffer.from(c).toString()).toBe(false);
      expect(decoder(c), Buffer.from(c).toString()).toBe(false);
    }
  });

  it('agrees with decodeTermControl on 5,000 seeded random, mutated and pathological messages', () => {
    const rng = mulberry32(0x1c7);
    const samples = [INTERRUPT, '{"op":"interrupt","a":[1,2,{"b":"c"}]}', '{"op":"ack","bytes":10}', '{"op":"close"}'].map(utf8);
    let interrupts = 0;
    for (let i = 0; i < 5_000; i++) {
      const { bytes } = nextInput(rng, samples, 2 * MAX_OPTIONS_BYTES);
      const verdict = decoder(bytes);
      if (verdict) interrupts++;
      if (worker(bytes) !== verdict) expect.fail(`disagree on ${JSON.stringify(Buffer.from(bytes).toString('latin1').slice(0, 200))}`);
    }
    // The inputs reach both sides of the rule, not just refusals.
    expect(interrupts).toBeGreaterThan(10);
  });
});
