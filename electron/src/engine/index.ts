// The engine's public entry point for the CLI, the Electron main process and web mode.
export { createEngine, type EngineOptions } from './engine';
export { EngineError, isEngineError, classifyConnectError, redactUrl } from './errors';
export type * from './types';
