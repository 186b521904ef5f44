import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['testing/**/*.test.ts', 'protocol/**/*.test.ts', 'device-runtime/**/*.test.ts', 'electron/**/*.test.ts', 'renderer/**/*.test.{ts,tsx}'],
    exclude: ['node_modules/**', 'e2e/**', 'out/**'],
    pool: 'forks',
    // Vitest's default (cores - 1) runs the files one after another on a two-core CI machine,
    // while much of each file waits on brokers, device processes and timers: three at a time
    // keep both cores busy (two leave about a third of them idle).
    maxWorkers: 3,
    testTimeout: 30_000,
    hookTimeout: 30_000,
  },
});
