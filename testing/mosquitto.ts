// Starts a real Mosquitto for interop tests and benchmarks: a free loopback port, the stock
// queue limits (max_queued_messages 1000, so flow control is proven against them) and
// TCP_NODELAY. Tests skip with a visible message only when the binary is absent.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

export const MOSQUITTO_BIN = ['/usr/sbin/mosquitto', '/usr/bin/mosquitto', '/usr/local/sbin/mosquitto']
  .find((p) => spawnSync('test', ['-x', p]).status === 0);

export const mosquittoMissingReason = MOSQUITTO_BIN
  ? undefined
  : 'mosquitto is not installed (apt-get install mosquitto): Mosquitto interop tests skipped';

export interface MosquittoOptions {
  /** Extra listener with TLS; files in PEM. */
  tls?: { cert: string; key: string; ca?: string };
  /** username -> password; enables password_file and disables anonymous access. */
  users?: Record<string, string>;
  /** Text of an ACL file (Mosquitto's acl_file format); enables it. */
  acl?: string;
  /** Lines appended verbatim to the config. */
  extra?: string[];
}

export interface Mosquitto {
  port: number;
  tlsPort?: number;
  url: string;
  dir: string;
  stop(): Promise<void>;
  /** Kills the broker (SIGKILL) and starts it again on the same ports. */
  restart(downMs?: number): Promise<void>;
  output(): string;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

export async function startMosquitto(opts: MosquittoOptions = {}): Promise<Mosquitto> {
  if (!MOSQUITTO_BIN) throw new Error(mosquittoMissingReason);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'mqb-mosquitto-'));
  const port = await freePort();
  const tlsPort = opts.tls ? await freePort() : undefined;
  const lines = [
    'per_listener_settings false',
    'persistence false',
    'log_dest stderr',
    'log_type error',
    'log_type warning',
    'set_tcp_nodelay true',
    `listener ${port} 127.0.0.1`,
  ];
  if (opts.tls && tlsPort) {
    lines.push(`listener ${tlsPort} 127.0.0.1`, `certfile ${opts.tls.cert}`, `keyfile ${opts.tls.key}`);
    if (opts.tls.ca) lines.push(`cafile ${opts.tls.ca}`);
  }
  // Started as root, Mosquitto drops to the `mosquitto` user and then cannot read the 0600
  // files this harness writes; keep it as root there (loopback-only test broker).
  if (process.getuid?.() === 0) lines.push('user root');
  if (opts.users) {
    const pwfile = path.join(dir, 'passwd');
    writeFileSync(pwfile, '', { mode: 0o600 });
    for (const [user, pass] of Object.entries(opts.users)) {
      const r = spawnSync('mosquitto_passwd', ['-b', pwfile, user, pass]);
      if (r.status !== 0) throw new Error(`mosquitto_passwd failed: ${r.stderr}`);
    }
    lines.push(`password_file ${pwfile}`, 'allow_anonymous false');
  } else {
    lines.push('allow_anonymous true');
  }
  if (opts.acl !== undefined) {
    const aclFile = path.join(dir, 'acl');
    writeFileSync(aclFile, opts.acl, { mode: 0o600 });
    lines.push(`acl_file ${aclFile}`);
  }
  lines.push(...(opts.extra ?? []));
  const conf = path.join(dir, 'mosquitto.conf');
  writeFileSync(conf, lines.join('\n') + '\n');

  let out = '';
  let child: ChildProcess;
  const launch = async () => {
    child = spawn(MOSQUITTO_BIN!, ['-c', conf], { stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout!.on('data', (d) => (out += d));
    child.stderr!.on('data', (d) => (out += d));
    await waitForPort(port, () => child.exitCode !== null, () => out);
  };
  await launch();
  const kill = (sig: NodeJS.Signals) =>
    new Promise<void>((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolve();
      child.once('exit', () => resolve());
      child.kill(sig);
    });

  return {
    port,
    tlsPort,
    url: `mqtt://127.0.0.1:${port}`,
    dir,
    output: () => out,
    async stop() {
      await kill('SIGTERM');
      rmSync(dir, { recursive: true, force: true });
    },
    async restart(downMs = 0) {
      await kill('SIGKILL');
      if (downMs) await new Promise((r) => setTimeout(r, downMs));
      await launch();
    },
  };
}

async function waitForPort(port: number, exited: () => boolean, output: () => string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    if (exited()) throw new Error(`mosquitto exited: ${output()}`);
    const up = await new Promise<boolean>((resolve) => {
      const s = net.connect(port, '127.0.0.1');
      s.once('connect', () => {
        s.destroy();
        resolve(true);
      });
      s.once('error', () => resolve(false));
    });
    if (up) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`mosquitto did not listen on ${port} within 10 s: ${output()}`);
}
