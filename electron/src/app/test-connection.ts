// "Test connection" in the profile editor: a throwaway engine connects with the profile and
// reports the engine's own error classification (dns, refused, tls, auth), so the message the
// user sees is the one they would get when switching to that broker.
import type { TestResult } from '../../../protocol/src';
import { createEngine } from '../engine';
import type { BrokerProfile } from '../engine/types';
import { toBridgeError } from './errors';

export async function testConnection(profile: BrokerProfile, signal: AbortSignal): Promise<TestResult> {
  const engine = createEngine();
  const started = Date.now();
  const abort = () => void engine.disconnect();
  signal.addEventListener('abort', abort, { once: true });
  try {
    await engine.connect({ ...profile, clientId: undefined });
    return { ok: true, ms: Date.now() - started };
  } catch (e) {
    return { ok: false, error: toBridgeError(e) };
  } finally {
    signal.removeEventListener('abort', abort);
    await engine.disconnect();
  }
}
