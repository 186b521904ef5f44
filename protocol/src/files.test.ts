// The fast path for `ls` replies: a parsed reply is taken as it is only when the schema would
// have returned it unchanged.
import { describe, expect, it } from 'vitest';
import { utf8 } from './bytes';
import { decodeFileReply, isExactLsReply, LsReply } from './files';
import { mulberry32, pick, randInt, type Rng } from './fuzz/inputs';

/** Field values the schema takes and ones it refuses or would change. */
const NAMES = ['main.py', '', 'é😀', 'x'.repeat(4096), 'x'.repeat(4097), 7, null, ['a']];
const TYPES = ['file', 'dir', 'link', 'other', 'socket', 'FILE', '', 3];
const SIZES = [0, 12, -0, -1, 1.5, 2 ** 53, '12', null, true];
const TIMES = [0, 1763769600000, 1763769600000.5, -1, '1', null];
const EXTRA = ['__proto__', 'constructor', 'mode', 'path'];

function randomEntry(rng: Rng): unknown {
  if (rng() < 0.05) return pick(rng, [null, 'x', 1, [], [{ name: 'a', type: 'dir' }]]);
  // No prototype, so `__proto__` is a key that JSON.stringify writes out.
  const e = Object.create(null) as Record<string, unknown>;
  if (rng() < 0.95) e.name = pick(rng, NAMES);
  if (rng() < 0.95) e.type = pick(rng, TYPES);
  if (rng() < 0.5) e.size = pick(rng, SIZES);
  if (rng() < 0.5) e.mtime = pick(rng, TIMES);
  if (rng() < 0.1) e[pick(rng, EXTRA)] = 1;
  return e;
}

/** A reply as JSON.parse would give it (own `__proto__` keys included), mostly valid. */
function randomReply(rng: Rng): unknown {
  const entries = Array.from({ length: randInt(rng, 4) }, () => randomEntry(rng));
  const reply: Record<string, unknown> = Object.assign(Object.create(null) as object, { path: rng() < 0.95 ? pick(rng, ['/', '/lib', 'y'.repeat(4097), 5]) : undefined, entries: rng() < 0.95 ? entries : {} });
  if (rng() < 0.05) reply[pick(rng, EXTRA)] = 'x';
  return JSON.parse(JSON.stringify(reply)) as unknown;
}

describe('isExactLsReply', () => {
  it('holds only where LsReply would return the same value, and for most valid listings', () => {
    const rng = mulberry32(0x6c73);
    let exact = 0;
    let schemaOnly = 0;
    for (let i = 0; i < 10_000; i++) {
      const v = randomReply(rng);
      const r = LsReply.safeParse(v);
      if (isExactLsReply(v)) {
        exact++;
        expect(r.success && r.data).toEqual(v);
      } else if (r.success) {
        schemaOnly++;
      }
    }
    expect(exact).toBeGreaterThan(500);
    // Those the schema takes but changes (it strips unknown keys) go through the schema.
    expect(schemaOnly).toBeGreaterThan(20);
  });

  it('leaves unknown keys to the schema, which strips them', () => {
    const d = decodeFileReply('ls', utf8('{"path":"/","entries":[{"name":"a","type":"file","mode":420}],"more":1}'));
    expect(d).toEqual({ ok: true, value: { path: '/', entries: [{ name: 'a', type: 'file' }] } });
    // JSON.parse reads 1e999 as Infinity, which the schema refuses.
    const bad = decodeFileReply('ls', utf8('{"path":"/","entries":[{"name":"a","type":"file","size":1e999}]}'));
    expect(bad.ok).toBe(false);
    const own = decodeFileReply('ls', utf8('{"path":"/","entries":[{"name":"a","type":"file","__proto__":{"size":1}}]}'));
    expect(own).toEqual({ ok: true, value: { path: '/', entries: [{ name: 'a', type: 'file' }] } });
  });
});
