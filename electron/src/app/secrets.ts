// How secrets (broker passwords, client keys) are kept at rest. The desktop app passes a codec
// backed by Electron's safeStorage (OS keychain); web mode has no keychain, so it stores them as
// plain text in a settings file only its owner can read (0600) and says so in the UI and README.

export interface SecretCodec {
  kind: 'safeStorage' | 'file-0600';
  encode(plain: string): string;
  decode(stored: string): string;
}

/** Web mode: the file's 0600 permission is the protection, so the value is stored as is. */
export const plainFileCodec: SecretCodec = {
  kind: 'file-0600',
  encode: (plain) => plain,
  decode: (stored) => stored,
};
