// Turns anything thrown in a handler into the contract's BridgeError: engine errors keep their
// code (so the UI can say "TLS" or "wrong password"), everything else becomes `internal`.
import { ErrorCode, type BridgeError } from '../../../protocol/src';

export class HostError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'HostError';
  }
}

export function toBridgeError(e: unknown): BridgeError {
  if (typeof e === 'object' && e !== null && 'code' in e && 'message' in e) {
    const code = ErrorCode.safeParse((e as { code: unknown }).code);
    const message = (e as { message: unknown }).message;
    if (code.success && typeof message === 'string') return { code: code.data, message };
  }
  const message = e instanceof Error ? e.message : String(e);
  return { code: 'internal', message };
}
