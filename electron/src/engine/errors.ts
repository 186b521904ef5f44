// Typed engine errors. Every failure the engine reports carries one of the codes in types.ts so
// the CLI can print one line and the UI can pick words and colours without parsing messages.
import { redactUrl } from '../../../protocol/src';
import type { EngineErrorCode } from './types';

export class EngineError extends Error {
  readonly code: EngineErrorCode;
  constructor(code: EngineErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = 'EngineError';
  }
}

export const isEngineError = (e: unknown): e is EngineError => e instanceof EngineError;

/** Wraps anything thrown into an EngineError, keeping an existing code. */
export function asEngineError(e: unknown, fallback: EngineErrorCode = 'network'): EngineError {
  if (e instanceof EngineError) return e;
  const message = e instanceof Error ? e.message : String(e);
  return new EngineError(fallback, message, { cause: e });
}

// Node's TLS verification failures (OpenSSL X509 codes surfaced by tls.connect) and its own
// ERR_TLS_* / ERR_SSL_* codes.
const TLS_CODES = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_UNTRUSTED',
  'CERT_REJECTED',
  'CERT_SIGNATURE_FAILURE',
  'HOSTNAME_MISMATCH',
  'EPROTO',
]);

const TLS_HINTS: Record<string, string> = {
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: 'the server certificate is not signed by a trusted CA (unknown CA)',
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: 'the server certificate is not signed by a trusted CA (unknown CA)',
  SELF_SIGNED_CERT_IN_CHAIN: 'the server certificate chain ends in an untrusted self-signed CA (unknown CA)',
  DEPTH_ZERO_SELF_SIGNED_CERT: 'the server certificate is self-signed and not trusted',
  CERT_HAS_EXPIRED: 'the server certificate has expired',
  ERR_TLS_CERT_ALTNAME_INVALID: 'the server certificate does not match the host name',
};

interface ErrorLike {
  code?: unknown;
  message?: unknown;
}

/**
 * Classifies a connection failure (socket, TLS or CONNACK) so the user learns what to fix:
 * the name (dns), the port/service (refused), the certificates (tls), the credentials (auth) or
 * the network in general.
 */
export function classifyConnectError(e: unknown, url?: string): EngineError {
  if (e instanceof EngineError) return e;
  const err = (typeof e === 'object' && e !== null ? e : {}) as ErrorLike;
  const raw = typeof err.message === 'string' ? err.message : String(e);
  const code = err.code;
  const where = url ? ` (${redactUrl(url)})` : '';
  if (typeof code === 'number') {
    // CONNACK return codes: MQTT 3.1.1 §3.2.2.3 (4 bad user/password, 5 not authorized) and
    // MQTT 5 §3.2.2.2 (0x86 bad user name or password, 0x87 not authorized, 0x8C bad auth method).
    if (code === 4 || code === 5 || code === 0x86 || code === 0x87 || code === 0x8c) {
      return new EngineError('auth', `broker refused the credentials${where}: ${raw}`, { cause: e });
    }
    return new EngineError('refused', `broker refused the connection${where}: ${raw}`, { cause: e });
  }
  if (typeof code === 'string') {
    if (code === 'ENOTFOUND' || code === 'EAI_AGAIN' || code === 'EAI_NONAME' || code === 'EAI_FAIL') {
      return new EngineError('dns', `cannot resolve the broker's host name${where}: ${raw}`, { cause: e });
    }
    if (code === 'ECONNREFUSED') {
      return new EngineError('refused', `connection refused: nothing listens on that port${where}`, { cause: e });
    }
    if (TLS_CODES.has(code) || code.startsWith('ERR_TLS_') || code.startsWith('ERR_SSL_') || code.startsWith('ERR_OSSL_')) {
      const hint = TLS_HINTS[code];
      return new EngineError('tls', `TLS failed${where}: ${hint ?? raw} [${code}]`, { cause: e });
    }
  }
  if (/certificate|ssl|tls/i.test(raw)) return new EngineError('tls', `TLS failed${where}: ${raw}`, { cause: e });
  // ws answers a failed upgrade with "Unexpected server response: 401"
  if (/Unexpected server response: 40[13]/.test(raw)) {
    return new EngineError('auth', `broker refused the credentials${where}: ${raw}`, { cause: e });
  }
  return new EngineError('network', `network error${where}: ${raw}`, { cause: e });
}
