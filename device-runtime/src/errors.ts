// Errors a command handler can raise. The dispatcher turns them into the original board's
// error replies on `P/mqb/reply/err/<id>` (wire facts, "The four native commands").

/** A sequencing fault: replied as `MQRepl protocol error <cmd>: <detail>`, as the original does. */
export class ProtocolError extends Error {
  override name = 'ProtocolError';
}

/**
 * A failure the device reports in words (bad path, missing file, wrong SHA ...). The message is
 * sent as is, so it must never contain host paths or secrets.
 */
export class DeviceError extends Error {
  override name = 'DeviceError';
}

const FS_MESSAGES: Record<string, string> = {
  ENOENT: 'no such file or directory',
  EEXIST: 'file exists',
  ENOTDIR: 'not a directory',
  EISDIR: 'is a directory',
  ENOTEMPTY: 'directory not empty',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  ENOSPC: 'no space left on device',
  EBUSY: 'resource busy',
  EXDEV: 'cross-device move',
  ELOOP: 'too many levels of symbolic links',
  ENAMETOOLONG: 'file name too long',
};

/**
 * Node's fs errors name the host path (`ENOENT: ... '/home/x/.local/share/...'`), which would
 * leak the device root's location; this rewrites them in terms of the device path.
 */
export function deviceFsError(e: unknown, devicePath: string): DeviceError {
  if (e instanceof DeviceError) return e;
  const code = typeof e === 'object' && e !== null && 'code' in e ? String((e as { code: unknown }).code) : undefined;
  if (code && FS_MESSAGES[code]) return new DeviceError(`${code}: ${FS_MESSAGES[code]}: ${devicePath}`);
  return new DeviceError(`${code ?? 'error'}: ${devicePath}`);
}

export const errorMessage = (e: unknown): string =>
  typeof e === 'object' && e !== null && 'message' in e ? String((e as { message: unknown }).message) : String(e);
