#!/usr/bin/env node
// The `mqboard` CLI: its build (`npm ci` makes it) or the TypeScript sources; see launch.mjs.
import { launch } from './launch.mjs';

await launch('mqboard', 'electron/src/cli/main.ts');
