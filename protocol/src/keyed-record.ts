// Records keyed by names that users or devices choose (device prefixes, say). zod's z.record
// stores each key by assignment on a plain object, where `__proto__` is the prototype's setter,
// not a key: a device named `__proto__` silently lost its entry. `keyedRecord` keeps every key
// as an own property of an object without a prototype, where `__proto__` is a name like any other.
import { z } from 'zod';

/** An object with no prototype: assigning any key, `__proto__` included, makes an own property. */
const bare = <V>(): Record<string, V> => Object.create(null) as Record<string, V>;

/**
 * A schema for `{ [key]: value }` whose keys `key` validates (a prefix, a name) and values
 * `value` validates; what it returns has no prototype, so every key that came in goes out.
 * Problems name their key in the path, as z.record's do.
 */
export function keyedRecord<K extends z.ZodType<string>, V extends z.ZodType>(key: K, value: V) {
  return z.custom<Record<string, z.input<V>>>((v) => typeof v === 'object' && v !== null && !Array.isArray(v), 'expected an object').transform((input, ctx) => {
    const out = bare<z.output<V>>();
    for (const k of Object.keys(input)) {
      const kr = key.safeParse(k);
      if (!kr.success) {
        for (const issue of kr.error.issues) ctx.addIssue({ code: 'custom', message: `key ${JSON.stringify(k)}: ${issue.message}`, path: [k] });
        continue;
      }
      // An own `__proto__` (JSON.parse makes one) shadows the accessor, so this reads the value.
      const vr = value.safeParse(input[k]);
      if (!vr.success) {
        for (const issue of vr.error.issues) ctx.addIssue({ code: 'custom', message: issue.message, path: [k, ...issue.path] });
        continue;
      }
      out[k] = vr.data;
    }
    return out;
  });
}
