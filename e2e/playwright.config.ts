// `npm run test:e2e`: the specs in e2e/ against the Electron app where its binary exists, and
// against web mode in Debian's Chromium otherwise (never `playwright install`). One worker:
// each test starts its own broker, devices and app, and CI has two cores.
import { defineConfig } from '@playwright/test';

export default defineConfig({
  testDir: '.',
  testMatch: '*.spec.ts',
  outputDir: './artifacts/test-results',
  globalSetup: './harness/global-setup.ts',
  workers: 1,
  retries: 0,
  timeout: 90_000,
  expect: { timeout: 15_000 },
  reporter: [['list']],
  use: { actionTimeout: 15_000 },
});
