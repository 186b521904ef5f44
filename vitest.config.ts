import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['testing/**/*.test.ts', 'protocol/**/*.test.ts', 'device-runtime/**/*.test.ts', 'electron/**/*.test.ts', 'renderer/**/*.test.{ts,tsx}'],
    exclude: ['node_modules/**', 'e2e/**', 'out/**'],
    pool: 'forks',
    testTimeout: 30_000,
    hookTimeout: 30_000,
  },
});
