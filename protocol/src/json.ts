import type { z } from 'zod';
import { strictText, utf8 } from './bytes';
import { DEFAULT_JSON, type JsonLimit, MAX_JSON_DEPTH, tooLarge } from './limits';
import { type Decoded, fail, ok } from './result';

/** The first few problems are enough to say what is wrong; a bad 10,000-entry list has 10,000. */
const MAX_LISTED_ISSUES = 5;

/** Lists the problems with their paths, e.g. `capabilities.maxChunk: expected number`. */
export function describeIssues(error: z.ZodError): string {
  const listed = error.issues
    .slice(0, MAX_LISTED_ISSUES)
    .map((i) => `${i.path.length ? i.path.join('.') : '(root)'}: ${i.message}`)
    .join('; ');
  const more = error.issues.length - MAX_LISTED_ISSUES;
  return more > 0 ? `${listed}; and ${more} more` : listed;
}

/** Validates an already-parsed value (an IPC argument, say) against a schema. */
export function decodeValue<T>(schema: z.ZodType<T>, value: unknown, what: string): Decoded<T> {
  const r = schema.safeParse(value);
  return r.success ? ok(r.data) : fail(`invalid ${what}: ${describeIssues(r.error)}`);
}

/**
 * Checks the nesting depth and counts the values of JSON bytes in one pass, stopping at the first
 * excess; returns what is wrong, or undefined. It also refuses, before any text is decoded, what
 * no JSON can be: a byte that is not ASCII outside a string, a string never closed, brackets that
 * do not balance. Decoding UTF-8 that is not ASCII is the costly step (Node's decoder: ~5 ms per
 * MiB of it), and garbage would otherwise pay it only to fail in JSON.parse's first bytes. Other
 * malformed JSON passes here and fails in JSON.parse. Bytes of a multi-byte UTF-8 character are
 * never ASCII, so scanning bytes is exact. The device runtime hands this function's source text
 * to a worker, so it uses only its arguments and globals.
 */
export function checkJsonShape(bytes: Uint8Array, maxValues: number, maxDepth = MAX_JSON_DEPTH): string | undefined {
  let depth = 0;
  let values = 0;
  let inString = false;
  let notJson = -1;
  for (let i = 0; i < bytes.length; i++) {
    const c = bytes[i]!;
    if (inString) {
      if (c === 0x5c) i++; // backslash: the next byte is escaped
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) {
      inString = true;
    } else if (c === 0x7b || c === 0x5b) {
      if (++depth > maxDepth) return `nested deeper than ${maxDepth} levels`;
      if (++values > maxValues) return `more than ${maxValues} values`;
    } else if (c === 0x7d || c === 0x5d) {
      // Only note where the bytes stop being JSON and leave the loop: a version returning its
      // message from these two branches ran ~10× slower once V8 had optimized it (measured).
      if (--depth < 0) {
        notJson = i;
        break;
      }
    } else if (c === 0x2c) {
      if (++values > maxValues) return `more than ${maxValues} values`;
    } else if (c > 0x7f) {
      notJson = i;
      break;
    }
  }
  if (notJson >= 0) return `not JSON (unexpected byte ${notJson})`;
  if (inString) return 'not JSON (a string is never closed)';
  return depth === 0 ? undefined : 'not JSON (a bracket is never closed)';
}

/**
 * Decodes UTF-8 JSON bytes from the wire and validates them. What exceeds `limit` (limits.ts:
 * bytes, values, nesting) is refused before it is decoded or parsed. `exact`, when given, must
 * hold only for a value the schema would return unchanged: such a value is taken as parsed,
 * without the schema's copy of it; any other goes through the schema.
 */
export function decodeJson<T>(
  schema: z.ZodType<T>,
  bytes: Uint8Array,
  what: string,
  limit: JsonLimit = DEFAULT_JSON,
  exact?: (v: unknown) => v is T,
): Decoded<T> {
  if (bytes.length > limit.bytes) return fail(`invalid ${what}: ${tooLarge('payload', bytes.length, limit.bytes)}`);
  const shape = checkJsonShape(bytes, limit.values);
  if (shape) return fail(`invalid ${what}: ${shape}`);
  const s = strictText(bytes);
  if (s === undefined) return fail(`invalid ${what}: not UTF-8`);
  let v: unknown;
  try {
    v = JSON.parse(s);
  } catch (e) {
    return fail(`invalid ${what}: not JSON (${(e as Error).message})`);
  }
  return exact?.(v) ? ok(v) : decodeValue(schema, v, what);
}

export const encodeJson = (value: unknown): Uint8Array => utf8(JSON.stringify(value));
