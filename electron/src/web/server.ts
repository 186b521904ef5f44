// Web mode: the renderer served on 127.0.0.1 and the bridge over one WebSocket,
// protected by a random per-run token. Same contract and the same host handlers as the
// Electron IPC; this file only moves envelopes. Loopback only: never listen on other interfaces.
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { createReadStream, existsSync, readFileSync, statSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { WebSocketServer, type WebSocket } from 'ws';
import { decodeBinaryCall, WsClientMessage, type WsServerMessage } from '../../../protocol/src';
import type { BridgeHost } from '../app/bridge-host';

export interface WebServerOptions {
  bridge: BridgeHost;
  /** The built renderer (index.html and assets). */
  rendererDir: string;
  port?: number;
  /**
   * The command that started this host (`npm start`, `npm run web`), which the page names when
   * it has no token or lost the host. The page reads it from `<meta name="mqboard-launch">`,
   * which works before (and without) a bridge connection.
   */
  launchCommand?: string;
}

/** The meta tag the page reads the launch command from. */
export const LAUNCH_META = 'mqboard-launch';

export interface WebServer {
  url: string;
  port: number;
  token: string;
  close(): Promise<void>;
}

const HOST = '127.0.0.1';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.json': 'application/json',
};

/** A slow client (a throttled background tab) must not make the host buffer without bound. */
const MAX_BUFFERED = 16 * 1024 * 1024;

export async function startWebServer(opts: WebServerOptions): Promise<WebServer> {
  const token = randomBytes(24).toString('base64url');
  const root = path.resolve(opts.rendererDir);
  if (!existsSync(path.join(root, 'index.html'))) throw new Error(`renderer is not built: ${root}/index.html is missing`);
  let port = 0;
  const allowedHosts = () => new Set([`${HOST}:${port}`, `localhost:${port}`]);

  const server = http.createServer((req, res) => {
    try {
      serveFile(req, res);
    } catch (e) {
      // Whatever a request carries, it costs that request a 400, never the host: any page in the
      // browser can send one to this port with an <img>.
      if (!res.headersSent) res.writeHead(400, { 'content-type': 'text/plain' });
      res.end('bad request');
      console.warn('web: refused a malformed request:', e instanceof Error ? e.message : String(e));
    }
  });

  const serveFile = (req: http.IncomingMessage, res: http.ServerResponse) => {
    // DNS rebinding: a page on another name that resolves to 127.0.0.1 must not read the app.
    if (!allowedHosts().has(req.headers.host ?? '')) {
      res.writeHead(421).end('wrong host');
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405).end();
      return;
    }
    const url = parseUrl(req.url);
    const pathname = url && safeDecode(url.pathname);
    if (pathname === undefined || pathname.includes('\0')) {
      res.writeHead(400, { 'content-type': 'text/plain' }).end('bad request');
      return;
    }
    const rel = pathname === '/' ? 'index.html' : pathname.replace(/^\/+/, '');
    const file = path.resolve(root, rel);
    if (!file.startsWith(root + path.sep) || !existsSync(file) || !statSync(file).isFile()) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
      return;
    }
    res.writeHead(200, {
      'content-type': TYPES[path.extname(file)] ?? 'application/octet-stream',
      'content-security-policy': CSP,
      'x-content-type-options': 'nosniff',
      'referrer-policy': 'no-referrer',
      'cross-origin-opener-policy': 'same-origin',
      'cache-control': rel === 'index.html' ? 'no-store' : 'max-age=3600',
    });
    if (rel === 'index.html') {
      const body = withLaunchMeta(readFileSync(file, 'utf8'), opts.launchCommand ?? 'npm run web');
      res.end(req.method === 'HEAD' ? undefined : body);
    } else if (req.method === 'HEAD') res.end();
    else createReadStream(file).on('error', () => res.destroy()).pipe(res);
  };

  const wss = new WebSocketServer({ noServer: true, maxPayload: 8 * 1024 * 1024 });
  server.on('upgrade', (req, socket, head) => {
    socket.on('error', () => socket.destroy());
    const url = parseUrl(req.url);
    if (!url) {
      socket.end('HTTP/1.1 400 Bad Request\r\n\r\n');
      return;
    }
    const origin = req.headers.origin;
    const hosts = allowedHosts();
    const originOk = origin !== undefined && [...hosts].some((h) => origin === `http://${h}`);
    if (url.pathname !== '/bridge' || !originOk || !hosts.has(req.headers.host ?? '') || !tokenMatches(url.searchParams.get('token'), token)) {
      socket.end('HTTP/1.1 403 Forbidden\r\n\r\n');
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => serveSocket(ws, opts.bridge));
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, HOST, () => resolve());
  });
  port = (server.address() as AddressInfo).port;

  return {
    url: `http://${HOST}:${port}/#token=${token}`,
    port,
    token,
    async close() {
      for (const c of wss.clients) c.terminate();
      wss.close();
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

function serveSocket(ws: WebSocket, bridge: BridgeHost): void {
  const send = (m: WsServerMessage) => {
    if (ws.readyState === ws.OPEN) ws.send(JSON.stringify(m));
  };
  const client = bridge.connect((batch) => {
    if (ws.bufferedAmount > MAX_BUFFERED) {
      // Keep device and connection state (the next batch carries the latest anyway) but drop
      // log lines for a client that cannot keep up.
      batch = batch.filter((e) => e.stream !== 'logs');
    }
    send({ t: 'events', batch });
  });
  ws.on('message', (data, isBinary) => {
    if (isBinary) {
      // A staging chunk: raw bytes after a JSON header (protocol/src/bridge.ts).
      const frame = Array.isArray(data) ? Buffer.concat(data) : data instanceof ArrayBuffer ? new Uint8Array(data) : data;
      const msg = decodeBinaryCall(frame);
      if (!msg) return ws.close(1008, 'not a bridge message');
      void client.call(msg.op, msg.call).then(({ id, reply }) => send({ t: 'reply', id: id ?? '', reply }));
      return;
    }
    let raw: unknown;
    try {
      raw = JSON.parse(data.toString());
    } catch {
      return ws.close(1007, 'not JSON');
    }
    const msg = WsClientMessage.safeParse(raw);
    if (!msg.success) return ws.close(1008, 'not a bridge message');
    if (msg.data.t === 'cancel') return client.cancel(msg.data.id);
    void client.call(msg.data.op, msg.data.call).then(({ id, reply }) => send({ t: 'reply', id: id ?? '', reply }));
  });
  ws.on('close', () => client.close());
  ws.on('error', () => client.close());
}

const escapeAttr = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function withLaunchMeta(html: string, command: string): string {
  const meta = `<meta name="${LAUNCH_META}" content="${escapeAttr(command)}" />`;
  if (/<\/head>/i.test(html)) return html.replace(/<\/head>/i, `  ${meta}\n  </head>`);
  // No head: after the doctype, so the page stays in standards mode.
  const doctype = /^\s*<!doctype[^>]*>/i.exec(html);
  return doctype ? doctype[0] + meta + html.slice(doctype[0].length) : meta + html;
}

function parseUrl(raw: string | undefined): URL | undefined {
  try {
    return new URL(raw ?? '/', `http://${HOST}`);
  } catch {
    return undefined;
  }
}

/** `decodeURIComponent` throws on a broken escape (`%E0%A4%A`); that is a bad request, not a crash. */
function safeDecode(s: string): string | undefined {
  try {
    return decodeURIComponent(s);
  } catch {
    return undefined;
  }
}

function tokenMatches(given: string | null, token: string): boolean {
  if (!given) return false;
  const a = Buffer.from(given);
  const b = Buffer.from(token);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** Mirrors the meta CSP in renderer/index.html; 'self' covers the same-origin WebSocket. */
const CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "font-src 'self'",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');
