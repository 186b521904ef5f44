// Application modules, as the original launcher runs them: the config lists module names; each
// is imported and its `start(mqtt, config)` called with the config object of the same name. A
// module subscribes, publishes, handles messages and hooks the first connection and every
// connect/disconnect through the `mqtt` object it is given. One that fails to load or start is
// logged and skipped; the caller counts that boot as failed.
import { existsSync } from 'node:fs';
import type { MqttClient } from 'mqtt';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { errorMessage } from './errors';
import type { Logger } from './log';
import { asBuffer } from './mqtt-client';

export type MessageHandler = (topic: string, payload: Buffer, retained: boolean, qos: number, dup: boolean) => unknown;

/** What `start(mqtt, config)` receives as `mqtt`. */
export interface ModuleMqtt {
  /** The device's topic prefix `P`. */
  readonly prefix: string;
  readonly connected: boolean;
  publish(topic: string, payload: string | Uint8Array, opts?: { retain?: boolean; qos?: 0 | 1 }): Promise<void>;
  subscribe(topic: string, qos?: 0 | 1): Promise<void>;
  onMessage(handler: MessageHandler): void;
  /** Awaited once at the first broker connection, in module order. */
  onInit(fn: () => unknown): void;
  /** Called on every connect (true) and disconnect (false). */
  onConnect(fn: (connected: boolean) => unknown): void;
  /**
   * Called when this boot ends. A board needs no such hook (a reset ends everything); an
   * in-process device does, or the module's timers would outlive the boot.
   */
  onStop(fn: () => unknown): void;
  log: Logger;
}

export interface ModuleHooks {
  messageHandlers: MessageHandler[];
  initHooks: Array<() => unknown>;
  connectHooks: Array<(connected: boolean) => unknown>;
  stopHooks: Array<() => unknown>;
}

export interface ModuleFailure {
  name: string;
  error: string;
  stack?: string;
}

export const newHooks = (): ModuleHooks => ({ messageHandlers: [], initHooks: [], connectHooks: [], stopHooks: [] });

/** Finds `<name>.mjs` or `<name>.js` in the search directories, first match wins. */
export function findModule(name: string, dirs: string[]): string | undefined {
  for (const dir of dirs) {
    for (const ext of ['.mjs', '.js']) {
      const f = path.join(dir, name + ext);
      if (existsSync(f)) return f;
    }
  }
  return undefined;
}

export async function startModules(
  names: string[],
  dirs: string[],
  configFor: (name: string) => unknown,
  apiFor: (name: string) => ModuleMqtt,
  log: Logger,
  /** Distinguishes boots so an in-process reboot imports a module file afresh. */
  generation: number,
): Promise<{ started: string[]; failed: ModuleFailure[] }> {
  const started: string[] = [];
  const failed: ModuleFailure[] = [];
  for (const name of names) {
    try {
      const file = findModule(name, dirs);
      if (!file) throw new Error(`module not found (looked in ${dirs.length} places)`);
      const mod: unknown = await import(`${pathToFileURL(file).href}?boot=${generation}`);
      const start = typeof mod === 'object' && mod !== null ? (mod as { start?: unknown }).start : undefined;
      if (typeof start !== 'function') throw new Error('module has no start(mqtt, config) function');
      await (start as (m: ModuleMqtt, c: unknown) => unknown)(apiFor(name), configFor(name) ?? {});
      started.push(name);
      log.info(`module ${name} started`);
    } catch (e) {
      const stack = typeof e === 'object' && e !== null && typeof (e as { stack?: unknown }).stack === 'string' ? (e as { stack: string }).stack : undefined;
      failed.push({ name, error: errorMessage(e), ...(stack ? { stack } : {}) });
      log.error(`module ${name} failed to start, skipped: ${errorMessage(e)}`);
    }
  }
  return { started, failed };
}

/** The `mqtt` object one module gets: the device's own connection, and hooks into its events. */
export function moduleMqtt(client: MqttClient, prefix: string, hooks: ModuleHooks, log: Logger): ModuleMqtt {
  return {
    prefix,
    get connected() {
      return client.connected;
    },
    publish: (topic, payload, o = {}) =>
      new Promise<void>((resolve, reject) =>
        client.publish(topic, typeof payload === 'string' ? payload : asBuffer(payload), { qos: o.qos ?? 1, retain: o.retain ?? false }, (e) =>
          e ? reject(e) : resolve(),
        ),
      ),
    subscribe: (topic, qos = 1) => client.subscribeAsync(topic, { qos }).then(() => undefined),
    onMessage: (h) => void hooks.messageHandlers.push(h),
    onInit: (f) => void hooks.initHooks.push(f),
    onConnect: (f) => void hooks.connectHooks.push(f),
    onStop: (f) => void hooks.stopHooks.push(f),
    log,
  };
}
