import type { z } from 'zod';
import { strictText, utf8 } from './bytes';
import { type Decoded, fail, ok } from './result';

/** Lists every problem with its path, e.g. `capabilities.maxChunk: expected number`. */
export function describeIssues(error: z.ZodError): string {
  return error.issues
    .map((i) => `${i.path.length ? i.path.join('.') : '(root)'}: ${i.message}`)
    .join('; ');
}

/** Validates an already-parsed value (an IPC argument, say) against a schema. */
export function decodeValue<T>(schema: z.ZodType<T>, value: unknown, what: string): Decoded<T> {
  const r = schema.safeParse(value);
  return r.success ? ok(r.data) : fail(`invalid ${what}: ${describeIssues(r.error)}`);
}

/** Decodes UTF-8 JSON bytes from the wire and validates them. */
export function decodeJson<T>(schema: z.ZodType<T>, bytes: Uint8Array, what: string): Decoded<T> {
  const s = strictText(bytes);
  if (s === undefined) return fail(`invalid ${what}: not UTF-8`);
  let v: unknown;
  try {
    v = JSON.parse(s);
  } catch (e) {
    return fail(`invalid ${what}: not JSON (${(e as Error).message})`);
  }
  return decodeValue(schema, v, what);
}

export const encodeJson = (value: unknown): Uint8Array => utf8(JSON.stringify(value));
