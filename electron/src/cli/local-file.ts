// Reading the user's own files for put, ota and sync: a file that cannot be read is a usage
// mistake (exit status 2) that names the file, not a crash.
import { readFileSync } from 'node:fs';
import { UsageError } from './usage-error';

export function readLocal(file: string): Uint8Array {
  try {
    return readFileSync(file);
  } catch (e) {
    throw new UsageError(`cannot read ${file}: ${(e as Error).message}`);
  }
}
