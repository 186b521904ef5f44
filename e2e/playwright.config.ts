// `npm run test:e2e`: the specs in e2e/ against the Electron app where its binary exists, and
// against web mode in Debian's Chromium otherwise (never `playwright install`). Two workers:
// each test starts its own broker, devices and app (free ports, its own settings folder), so two
// run side by side without sharing anything, and most of a test is waiting on devices.
import { defineConfig } from '@playwright/test';

export default defineConfig({
  testDir: '.',
  testMatch: '*.spec.ts',
  outputDir: './artifacts/test-results',
  globalSetup: './harness/global-setup.ts',
  workers: 2,
  retries: 0,
  timeout: 90_000,
  expect: { timeout: 15_000 },
  reporter: [['list']],
  use: { actionTimeout: 15_000 },
});
