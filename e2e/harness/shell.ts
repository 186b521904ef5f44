// Which shell the specs drive: the Electron app when its binary exists (and
// MQBOARD_E2E_SHELL does not say otherwise), web mode in Chromium otherwise.
import { electronBinary } from '../../electron/src/web/electron-binary';

export type Shell = { kind: 'electron'; binary: string } | { kind: 'web'; reason: string };

export function pickShell(): Shell {
  if (process.env.MQBOARD_E2E_SHELL === 'web') return { kind: 'web', reason: 'MQBOARD_E2E_SHELL=web' };
  const e = electronBinary();
  return 'path' in e ? { kind: 'electron', binary: e.path } : { kind: 'web', reason: e.missing };
}
