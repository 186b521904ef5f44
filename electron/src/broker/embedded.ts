// The embedded broker (aedes) behind `mqboard broker`, the app's demo default and the fast
// tests. aedes 1.x speaks MQTT 3.1.1 only, so clients connect with protocolVersion 4.
// A client of a broker can make its devices run code, so a broker that others can reach takes
// credentials: the app's demo makes new ones every run, `mqboard broker` takes them from the user.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Aedes } from 'aedes';
import { WebSocketServer, createWebSocketStream } from 'ws';

export interface EmbeddedBrokerOptions {
  /** TCP port for mqtt://; 0 picks a free one. */
  port?: number;
  /** Also serve MQTT over WebSocket on this port (0 = free port); omit for no WebSocket. */
  wsPort?: number;
  host?: string;
  /** When set, clients must present exactly these credentials. */
  auth?: BrokerCredentials;
}

export interface BrokerCredentials {
  username: string;
  password: string;
}

export interface EmbeddedBroker {
  host: string;
  port: number;
  wsPort?: number;
  url: string;
  close(): Promise<void>;
}

export async function startEmbeddedBroker(opts: EmbeddedBrokerOptions = {}): Promise<EmbeddedBroker> {
  const host = opts.host ?? '127.0.0.1';
  const broker = await Aedes.createBroker();
  if (opts.auth) {
    const { username, password } = opts.auth;
    broker.authenticate = (_client, user, pass, done) => {
      // Both compared whole and in constant time: a timing difference must not reveal a prefix.
      const good = sameSecret(user ?? '', username) && pass !== undefined && sameSecret(pass, password);
      if (good) return done(null, true);
      // MQTT 3.1.1 §3.2.2.3: return code 4, bad user name or password.
      const err = Object.assign(new Error('bad user name or password'), { returnCode: 4 });
      return done(err as never, false);
    };
  }
  // Nagle plus delayed ACKs turn every small request/ack exchange into a ~40 ms stall.
  const server = net.createServer({ noDelay: true }, (socket) => broker.handle(socket));
  await listen(server, opts.port ?? 0, host);
  const port = (server.address() as AddressInfo).port;

  let httpServer: http.Server | undefined;
  let wss: WebSocketServer | undefined;
  let wsPort: number | undefined;
  if (opts.wsPort !== undefined) {
    httpServer = http.createServer();
    httpServer.on('connection', (s) => s.setNoDelay(true));
    wss = new WebSocketServer({ server: httpServer });
    wss.on('connection', (socket, req) => broker.handle(createWebSocketStream(socket), req));
    await listen(httpServer, opts.wsPort, host);
    wsPort = (httpServer.address() as AddressInfo).port;
  }

  const sockets = new Set<net.Socket>();
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });

  return {
    host,
    port,
    wsPort,
    url: `mqtt://${host}:${port}`,
    async close() {
      for (const s of sockets) s.destroy();
      wss?.clients.forEach((c) => c.terminate());
      await Promise.all([
        new Promise<void>((r) => server.close(() => r())),
        httpServer ? new Promise<void>((r) => httpServer.close(() => r())) : undefined,
        new Promise<void>((r) => broker.close(() => r())),
      ]);
    },
  };
}

function listen(server: net.Server | http.Server, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

const digest = (v: string | Buffer) => createHash('sha256').update(v).digest();
const sameSecret = (given: string | Buffer, expected: string) => timingSafeEqual(digest(given), digest(expected));

/** Fresh credentials for one run (the app's demo broker and its own devices). */
export function randomCredentials(userPrefix: string): BrokerCredentials {
  return { username: `${userPrefix}-${randomBytes(4).toString('hex')}`, password: randomBytes(24).toString('base64url') };
}

/** What `mqboard broker` is given: flags, plus a password file or variable (a flag shows in ps). */
export interface BrokerAuthInput {
  user?: string;
  password?: string;
  /** A file whose first line is the password. */
  passwordFile?: string;
  /** MQBOARD_BROKER_PASSWORD is read from here when neither of the above is given. */
  env?: NodeJS.ProcessEnv;
}

/** The broker's credentials from the command's options; undefined = anonymous clients allowed. */
export function brokerCredentials(o: BrokerAuthInput): BrokerCredentials | undefined {
  if (o.password !== undefined && o.passwordFile !== undefined) throw new Error('give --password or --password-file, not both');
  let password = o.password;
  if (o.passwordFile !== undefined) {
    let text: string;
    try {
      text = readFileSync(o.passwordFile, 'utf8');
    } catch (e) {
      throw new Error(`cannot read password file ${o.passwordFile}: ${(e as Error).message}`);
    }
    password = text.split(/\r?\n/)[0];
    if (!password) throw new Error(`password file ${o.passwordFile} is empty`);
  }
  password ??= o.env?.MQBOARD_BROKER_PASSWORD || undefined;
  if (o.user === undefined && password === undefined) return undefined;
  if (!o.user) throw new Error('a broker password needs --user');
  if (!password) throw new Error('--user needs a password (--password-file, MQBOARD_BROKER_PASSWORD or --password)');
  return { username: o.user, password };
}

/** True for addresses only this machine can reach. */
export function isLoopback(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  return h === 'localhost' || h === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h) || /^::ffff:127\./.test(h);
}

/**
 * The warning to print (loudly) when the broker would take anonymous clients from other
 * machines: every one of them could run code on the devices that use it. Undefined when fine.
 */
export function exposureWarning(host: string, auth: BrokerCredentials | undefined): string | undefined {
  if (auth || isLoopback(host)) return undefined;
  return [
    `WARNING: the broker listens on ${host} without credentials.`,
    'Anyone who can reach this address can connect, read every message and command the devices that use it',
    '(run code, replace files, install firmware). Add --user and --password-file, or listen on 127.0.0.1.',
  ].join('\n');
}
