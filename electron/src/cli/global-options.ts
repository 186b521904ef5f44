// Global options and environment variables, as the original CLI (`-s/--server`, `--port`,
// `--tls`, `--prefix`, `--topic`, `-T/--timeout`, MQBOARD_*), plus credentials and CA files.
import { readFileSync } from 'node:fs';
import { Option, type Command } from 'commander';
import { UsageError } from './usage-error';
import type { BrokerProfile } from '../engine/types';

export interface GlobalOptions {
  server: string;
  port?: string;
  tls?: boolean;
  prefix?: string;
  topic?: string;
  timeout?: string;
  user?: string;
  password?: string;
  ca?: string;
  cert?: string;
  key?: string;
  verbose?: boolean;
}

export function addGlobalOptions(program: Command): Command {
  return program
    .addOption(new Option('-s, --server <host>', 'MQTT broker host name, IP address or URL (mqtt://, mqtts://, ws://, wss://)').env('MQBOARD_SERVER').default('localhost'))
    .addOption(new Option('--port <port>', 'broker port (default 1883, or 8883 with TLS)').env('MQBOARD_PORT'))
    .addOption(new Option('--tls', 'use TLS').env('MQBOARD_TLS'))
    .addOption(new Option('--no-tls', 'do not use TLS'))
    .addOption(new Option('-p, --prefix <prefix>', "device topic prefix (the part before '/mqb/cmd')").env('MQBOARD_PREFIX'))
    .addOption(new Option('-t, --topic <topic>', "exact device topic, overrides --prefix (the part before '/cmd', ending in /mqb)").env('MQBOARD_TOPIC'))
    .addOption(new Option('-T, --timeout <seconds>', 'seconds to wait without a reply (default 60; ota 600)').env('MQBOARD_TIMEOUT'))
    .addOption(new Option('-u, --user <name>', 'broker user name').env('MQBOARD_USER'))
    .addOption(new Option('--password <password>', 'broker password (prefer MQBOARD_PASSWORD: arguments are visible to other users)').env('MQBOARD_PASSWORD'))
    .addOption(new Option('--ca <file>', 'PEM file with the CA certificate(s) to trust').env('MQBOARD_CA'))
    .addOption(new Option('--cert <file>', 'PEM client certificate for mutual TLS'))
    .addOption(new Option('--key <file>', 'PEM client key for mutual TLS'))
    .addOption(new Option('-v, --verbose', 'print progress information to stderr'));
}

const truthy = (v: string | boolean | undefined) => v === true || (typeof v === 'string' && /^(1|true|yes|on)$/i.test(v));

function readPem(file: string | undefined, what: string): string | undefined {
  if (!file) return undefined;
  try {
    return readFileSync(file, 'utf8');
  } catch (e) {
    throw new UsageError(`cannot read the ${what} file ${file}: ${(e as Error).message}`);
  }
}

export function brokerProfile(o: GlobalOptions, discovery: BrokerProfile['discovery']): BrokerProfile {
  const tls = truthy(o.tls);
  let url: string;
  if (o.server.includes('://')) {
    url = o.server;
  } else {
    const port = o.port ? Number(o.port) : tls ? 8883 : 1883;
    if (!Number.isInteger(port) || port < 1 || port > 65535) throw new UsageError(`invalid port: ${o.port}`);
    const host = o.server.includes(':') && !o.server.startsWith('[') ? `[${o.server}]` : o.server;
    url = `${tls ? 'mqtts' : 'mqtt'}://${host}:${port}`;
  }
  return {
    url,
    username: o.user,
    password: o.password,
    ca: readPem(o.ca, 'CA'),
    cert: readPem(o.cert, 'certificate'),
    key: readPem(o.key, 'key'),
    discovery,
  };
}

/** The device prefix from --topic (which names `P/mqb`) or --prefix. */
export function devicePrefix(o: GlobalOptions): string {
  if (o.topic) {
    const t = o.topic.replace(/\/+$/, '');
    if (!t.endsWith('/mqb') || t.length <= 4) throw new UsageError(`--topic must name the device's mqb topic, e.g. esp32/test/mqb (got ${o.topic})`);
    return t.slice(0, -4);
  }
  if (o.prefix) return o.prefix.replace(/\/+$/, '');
  throw new UsageError('--prefix or --topic is required (or set MQBOARD_PREFIX)');
}

/** Inactivity timeout in ms; ota defaults to 10 minutes like the original. */
export function timeoutMs(o: GlobalOptions, forOta = false): number {
  if (o.timeout === undefined) return forOta ? 600_000 : 60_000;
  const s = Number(o.timeout);
  if (!Number.isFinite(s) || s <= 0) throw new UsageError(`invalid timeout: ${o.timeout}`);
  return s * 1000;
}
