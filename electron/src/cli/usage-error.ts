// A mistake in how the CLI was called (exit status 2). Its own class rather than the engine's
// EngineError so that parsing the command line loads none of the engine (start-up time).
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** Exit status 2 for usage mistakes, the CLI's own and the engine's `invalid-argument`. */
export function isUsageError(e: unknown): boolean {
  if (e instanceof UsageError) return true;
  return e instanceof Error && e.name === 'EngineError' && (e as { code?: unknown }).code === 'invalid-argument';
}
