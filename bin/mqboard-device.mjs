#!/usr/bin/env node
// The `mqboard-device` runtime (one board, or a simulated fleet with --fleet N).
import { register } from 'tsx/esm/api';

register();
await import('../device-runtime/src/bin.ts');
