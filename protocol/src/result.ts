/** What every decoder in protocol/ returns: wire data is untrusted, so failure is a value. */
export type Decoded<T> = { ok: true; value: T } | { ok: false; error: string };

export const ok = <T>(value: T): Decoded<T> => ({ ok: true, value });
export const fail = <T = never>(error: string): Decoded<T> => ({ ok: false, error });

/** Unwraps a decoded value or throws its error; for callers that already handle exceptions. */
export function unwrap<T>(d: Decoded<T>): T {
  if (!d.ok) throw new Error(d.error);
  return d.value;
}
