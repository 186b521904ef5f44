#!/usr/bin/env node
// The `mqboard-device` runtime (one board, or a simulated fleet with --fleet N): its build
// (`npm ci` makes it) or the TypeScript sources; see launch.mjs.
import { launch } from './launch.mjs';

await launch('mqboard-device', 'device-runtime/src/bin.ts');
