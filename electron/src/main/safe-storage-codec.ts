// Secrets at rest in the desktop app: Electron's safeStorage (Keychain on macOS, DPAPI on
// Windows, the Secret Service/kwallet on Linux). If the OS offers no real encryption (Linux
// without a keyring falls back to a hard-coded key, `basic_text`), saving a secret fails with
// a message rather than pretending it is protected.
import { safeStorage } from 'electron';
import { HostError } from '../app/errors';
import type { SecretCodec } from '../app/secrets';

export const safeStorageCodec: SecretCodec = {
  kind: 'safeStorage',
  encode(plain) {
    if (!safeStorage.isEncryptionAvailable()) throw new HostError('not-supported', 'the system keychain is not available, so passwords and keys cannot be stored encrypted');
    if (process.platform === 'linux' && safeStorage.getSelectedStorageBackend() === 'basic_text') {
      throw new HostError('not-supported', 'no keyring (Secret Service or kwallet) is running, so passwords and keys cannot be stored encrypted');
    }
    return safeStorage.encryptString(plain).toString('base64');
  },
  decode(stored) {
    return safeStorage.decryptString(Buffer.from(stored, 'base64'));
  },
};
