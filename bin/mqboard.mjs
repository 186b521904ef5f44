#!/usr/bin/env node
// The `mqboard` CLI. Runs the TypeScript sources through tsx's loader, so there is no build step.
import { register } from 'tsx/esm/api';

register();
await import('../electron/src/cli/main.ts');
