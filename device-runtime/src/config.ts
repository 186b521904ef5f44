// Settings of the `mqboard-device` bin: flags, an optional JSON config file with the same
// names, and the original CLI's environment variables, in that order of precedence.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { decodeValue } from '../../protocol/src';
import { defaultRoot, DEFAULTS, type DeviceOptions } from './options';

export const BinConfig = z
  .object({
    server: z.string().min(1).max(255),
    port: z.number().int().min(1).max(65535),
    tls: z.boolean(),
    /** Path of a PEM CA bundle. */
    ca: z.string().min(1),
    user: z.string().max(255),
    password: z.string().max(1024),
    prefix: z.string().min(1).max(200),
    root: z.string().min(1),
    fleet: z.number().int().min(1).max(999),
    chunk: z.number().int().min(64).max(16 * 1024 * 1024),
    statusInterval: z.number().int().min(1).max(86_400),
    /** Seconds asleep between wakes (a battery board); none by default. */
    sleepCycle: z.number().int().min(1).max(86_400),
    /** Seconds awake with nothing to do before sleeping again. */
    awake: z.number().int().min(1).max(3600),
  })
  .partial()
  .strict();
export type BinConfig = z.infer<typeof BinConfig>;

export function readConfigFile(file: string): BinConfig {
  let v: unknown;
  try {
    v = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new Error(`cannot read config ${file}: ${(e as Error).message}`);
  }
  const r = decodeValue(BinConfig, v, `config ${file}`);
  if (!r.ok) throw new Error(r.error);
  // A relative root or CA in the file is relative to the file, not to the current directory.
  const dir = path.dirname(path.resolve(file));
  return {
    ...r.value,
    ...(r.value.root ? { root: path.resolve(dir, r.value.root) } : {}),
    ...(r.value.ca ? { ca: path.resolve(dir, r.value.ca) } : {}),
  };
}

export function configFromEnv(env: NodeJS.ProcessEnv): BinConfig {
  const out: BinConfig = {};
  if (env.MQBOARD_SERVER) out.server = env.MQBOARD_SERVER;
  if (env.MQBOARD_PORT && /^\d+$/.test(env.MQBOARD_PORT)) out.port = Number(env.MQBOARD_PORT);
  if (env.MQBOARD_TLS) out.tls = /^(1|true|yes)$/i.test(env.MQBOARD_TLS);
  if (env.MQBOARD_PREFIX) out.prefix = env.MQBOARD_PREFIX;
  if (env.MQBOARD_USER) out.user = env.MQBOARD_USER;
  // Lets a password stay out of the process list.
  if (env.MQBOARD_PASSWORD) out.password = env.MQBOARD_PASSWORD;
  return out;
}

export interface ResolvedConfig {
  device: Omit<DeviceOptions, 'echo' | 'onReset'>;
  fleet?: number;
}

export function resolveConfig(c: BinConfig, readCa: (file: string) => string): ResolvedConfig {
  if (!c.prefix) throw new Error('--prefix is required (or MQBOARD_PREFIX, or "prefix" in --config)');
  if (c.awake !== undefined && c.sleepCycle === undefined) throw new Error('--awake is the idle time of a sleep cycle: it needs --sleep-cycle');
  const server = c.server ?? 'localhost';
  const tls = c.tls ?? false;
  const port = c.port ?? (tls ? 8883 : 1883);
  const host = server.includes(':') && !server.startsWith('[') ? `[${server}]` : server;
  const device: ResolvedConfig['device'] = {
    url: `${tls ? 'mqtts' : 'mqtt'}://${host}:${port}`,
    prefix: c.prefix,
    root: path.resolve(c.root ?? defaultRoot(c.prefix)),
    maxChunk: c.chunk ?? DEFAULTS.maxChunk,
    ...(c.user !== undefined ? { username: c.user } : {}),
    ...(c.password !== undefined ? { password: c.password } : {}),
    ...(c.ca ? { ca: readCa(c.ca) } : {}),
    ...(c.statusInterval ? { statusIntervalMs: c.statusInterval * 1000 } : {}),
    ...(c.sleepCycle ? { sleepCycleMs: c.sleepCycle * 1000 } : {}),
    ...(c.awake ? { awakeMs: c.awake * 1000 } : {}),
  };
  return { device, ...(c.fleet ? { fleet: c.fleet } : {}) };
}
