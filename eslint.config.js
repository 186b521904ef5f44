// Lint at zero warnings (`npm test`). The layering rules keep each runtime in its own folder:
// protocol/ is pure (no Node, no DOM, nothing of ours), the renderer reaches the engine only
// through the bridge contract, and the engine never imports Electron.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import reactHooks from 'eslint-plugin-react-hooks';
import globals from 'globals';

const ours = (...dirs) => dirs.flatMap((d) => [`**/${d}/**`, `${d}/**`]);

export default tseslint.config(
  { ignores: ['node_modules/**', 'out/**', 'dist/**', 'e2e/artifacts/**', 'bench/results.json', '.tmp/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node } },
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-console': 'off',
    },
  },
  {
    files: ['protocol/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        patterns: [
          { group: ['node:*', 'mqtt', 'electron', 'react', 'fs', 'path', 'crypto'], message: 'protocol/ is shared by every runtime: no Node, DOM or library I/O.' },
          { group: ours('electron', 'renderer', 'device-runtime'), message: 'protocol/ imports nothing of ours.' },
        ],
      }],
    },
  },
  {
    files: ['renderer/**/*.ts', 'renderer/**/*.tsx'],
    languageOptions: { globals: { ...globals.browser } },
    plugins: { 'react-hooks': reactHooks },
    rules: {
      ...reactHooks.configs.recommended.rules,
      'no-restricted-imports': ['error', {
        patterns: [
          { group: ['node:*', 'electron', 'mqtt'], message: 'The renderer talks to the engine only through the bridge API.' },
          { group: ours('electron', 'device-runtime'), message: 'The renderer imports only protocol/ and its own code.' },
        ],
      }],
    },
  },
  {
    files: ['device-runtime/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        patterns: [
          { group: ['electron'], message: 'The device runtime is plain Node.' },
          { group: ours('electron', 'renderer'), message: 'The device runtime shares only protocol/ with the host.' },
        ],
      }],
    },
  },
  {
    files: ['electron/src/engine/**/*.ts', 'electron/src/cli/**/*.ts', 'electron/src/broker/**/*.ts', 'electron/src/web/**/*.ts', 'electron/src/app/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        patterns: [
          { group: ['electron'], message: 'The engine, CLI and web mode run without Electron; only electron/src/main may import it.' },
          { group: ours('renderer'), message: 'The engine never imports the renderer.' },
        ],
      }],
    },
  },
);
