// Where things are, for the harness.
import path from 'node:path';

export const repo = path.resolve(import.meta.dirname, '../..');
export const artifacts = path.join(repo, 'e2e/artifacts');
export const CHROMIUM = process.env.MQBOARD_E2E_CHROMIUM ?? '/usr/bin/chromium';
/** Flags for Debian's Chromium in a container: headless, no sandbox, nothing phoning home. */
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
