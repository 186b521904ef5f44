import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** A scratch directory for a device root; removed by the returned cleanup. */
export function tmpRoot(tag = 'dev'): { dir: string; cleanup(): void } {
  const dir = mkdtempSync(path.join(os.tmpdir(), `mqb-${tag}-`));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}
