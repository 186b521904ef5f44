// Records keyed by user- or device-chosen names keep every key, `__proto__` included, and
// never touch a prototype.
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { FleetSettings, Tag } from './bridge-fleet';
import { decodeValue } from './json';
import { keyedRecord } from './keyed-record';

/** Tags by device prefix, as the fleet settings carry them. */
const TagsByPrefix = keyedRecord(z.string().min(1).max(1024), z.array(Tag).max(32));

describe('keyedRecord', () => {
  it('keeps a device named __proto__ as an ordinary key (z.record drops it)', () => {
    const wire = JSON.parse('{"__proto__":["lab"],"esp32/kitchen":["lab","hall"]}') as unknown;
    expect(Object.keys(z.record(z.string(), z.array(Tag)).parse(wire))).toEqual(['esp32/kitchen']);

    const tags = TagsByPrefix.parse(wire);
    expect(Object.keys(tags)).toEqual(['__proto__', 'esp32/kitchen']);
    expect(Object.getPrototypeOf(tags)).toBeNull();
    expect(Object.getOwnPropertyDescriptor(tags, '__proto__')?.value).toEqual(['lab']);
    expect(JSON.parse(JSON.stringify(tags))).toEqual(wire);
    expect(Object.entries(tags)).toEqual([['__proto__', ['lab']], ['esp32/kitchen', ['lab', 'hall']]]);
  });

  it("is what the fleet settings' tags are", () => {
    const s = FleetSettings.parse(JSON.parse('{"profile":"demo","tags":{"__proto__":["lab"]},"views":[]}'));
    expect(Object.getOwnPropertyDescriptor(s.tags, '__proto__')?.value).toEqual(['lab']);
  });

  it('never sets a prototype, on the result or on Object.prototype', () => {
    const wire = JSON.parse('{"__proto__":{"polluted":["x"]},"constructor":["y"]}') as unknown;
    const r = keyedRecord(z.string(), z.unknown()).parse(wire);
    expect(Object.getPrototypeOf(r)).toBeNull();
    expect((r as Record<string, unknown>).polluted).toBeUndefined();
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(r.constructor).toEqual(['y']);
  });

  it('names the key of a bad value or a refused key, and refuses what is not an object', () => {
    const bad = decodeValue(TagsByPrefix, { '__proto__': ['ok'], 'esp32/a': ['lab', 7] }, 'tags');
    expect(bad.ok).toBe(false);
    if (!bad.ok) expect(bad.error).toMatch(/^invalid tags: esp32\/a\.1: /);
    const emptyKey = decodeValue(TagsByPrefix, { '': ['lab'] }, 'tags');
    expect(emptyKey).toMatchObject({ ok: false, error: expect.stringMatching(/^invalid tags: : key "": /) });
    for (const v of [null, [], 'x', 3]) expect(decodeValue(TagsByPrefix, v, 'tags')).toEqual({ ok: false, error: 'invalid tags: (root): expected an object' });
  });
});
