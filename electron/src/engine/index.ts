// The engine's public entry point for the CLI, the Electron main process and web mode.
export { createEngine, type EngineOptions } from './engine';
export { EngineError, isEngineError, classifyConnectError } from './errors';
export { redactUrl } from '../../../protocol/src';
export type * from './types';
