// The embedded broker (aedes) behind `mqboard broker`, the app's demo default and the fast
// tests. aedes 1.x speaks MQTT 3.1.1 only, so clients connect with protocolVersion 4.
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
  auth?: { username: string; password: string };
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
      const good = user === username && pass !== undefined && pass.toString() === password;
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
