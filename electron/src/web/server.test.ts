// The web-mode server: the bridge needs the per-run token and our own origin; with them, calls
// are answered through the same bridge host as Electron's IPC.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeBinaryCall, WsServerMessage } from '../../../protocol/src';
import { createBridgeHost, type Handlers } from '../app/bridge-host';
import { startWebServer, type WebServer } from './server';

const connection = { phase: 'connected', since: 5 } as const;

describe('web server', () => {
  let dir: string;
  let server: WebServer;
  beforeAll(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'mqb-web-'));
    writeFileSync(path.join(dir, 'index.html'), '<!doctype html><title>t</title>');
    // The transport is under test here: the stage handler reports what reached it.
    const handlers = {
      getConnection: async () => connection,
      xferStageChunk: async ({ data }: { data: Uint8Array | string }) => ({ received: typeof data === 'string' ? -1 : data.reduce((a, b) => a + b, 0) }),
    } as unknown as Handlers;
    server = await startWebServer({ bridge: createBridgeHost(handlers), rendererDir: dir, launchCommand: 'npm start' });
  });
  afterAll(async () => {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const open = (token: string, origin = `http://127.0.0.1:${server.port}`, at = '/bridge') =>
    new WebSocket(`ws://127.0.0.1:${server.port}${at}?token=${token}`, { origin });

  const outcome = (ws: WebSocket) =>
    new Promise<string>((resolve) => {
      ws.once('open', () => resolve('open'));
      ws.once('unexpected-response', (_req, res) => resolve(String(res.statusCode)));
      ws.once('error', () => resolve('error'));
    });

  it('serves index.html on loopback with a CSP and refuses other host names', async () => {
    const res = await fetch(`http://127.0.0.1:${server.port}/`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-security-policy')).toContain("script-src 'self'");
    const traversal = await fetch(`http://127.0.0.1:${server.port}/..%2f..%2fetc%2fpasswd`);
    expect(traversal.status).toBe(404);
  });

  it('names the command that started it in the page, for the no-token page and the host-lost banner', async () => {
    const html = await (await fetch(`http://127.0.0.1:${server.port}/`)).text();
    expect(html).toMatch(/^<!doctype html><meta name="mqboard-launch" content="npm start" \/>/);
  });

  it('answers a broken percent-escape with 400 and keeps serving', async () => {
    for (const bad of ['/%E0%A4%A', '/assets/%', '/%00index.html']) {
      const res = await fetch(`http://127.0.0.1:${server.port}${bad}`);
      expect(res.status, bad).toBe(400);
    }
    expect(await outcome(open(server.token, undefined, '/bridge/%E0%A4%A'))).toBe('403');
    const res = await fetch(`http://127.0.0.1:${server.port}/`);
    expect(res.status).toBe(200);
  });

  it('refuses a WebSocket without the token or from another origin', async () => {
    expect(await outcome(open('wrong'))).toBe('403');
    expect(await outcome(open(server.token, 'http://evil.example'))).toBe('403');
  });

  it('answers a call with the token', async () => {
    const ws = open(server.token);
    expect(await outcome(ws)).toBe('open');
    const reply = new Promise<unknown>((resolve) => ws.once('message', (d) => resolve(JSON.parse(String(d)))));
    ws.send(JSON.stringify({ t: 'call', op: 'getConnection', call: { id: 'q1', args: {} } }));
    const msg = WsServerMessage.parse(await reply);
    expect(msg).toEqual({ t: 'reply', id: 'q1', reply: { ok: true, result: connection } });
    ws.close();
  });

  it('carries a staging chunk as a binary frame, bytes intact, and refuses a malformed one', async () => {
    const ws = open(server.token);
    expect(await outcome(ws)).toBe('open');
    const bytes = new Uint8Array(300_000).map((_, i) => i % 251);
    const reply = new Promise<unknown>((resolve) => ws.once('message', (d) => resolve(JSON.parse(String(d)))));
    ws.send(encodeBinaryCall('xferStageChunk', { id: 'b1', args: { stage: 'abc', offset: 0, data: bytes } }, bytes));
    const sum = bytes.reduce((a, b) => a + b, 0);
    expect(WsServerMessage.parse(await reply)).toEqual({ t: 'reply', id: 'b1', reply: { ok: true, result: { received: sum } } });
    const closed = new Promise<number>((resolve) => ws.once('close', (code) => resolve(code)));
    ws.send(new Uint8Array([0, 0, 0, 200, 1, 2, 3]));
    expect(await closed).toBe(1008);
  });

  it('closes the socket on a message that is not a bridge message', async () => {
    const ws = open(server.token);
    await outcome(ws);
    const closed = new Promise<number>((resolve) => ws.once('close', (code) => resolve(code)));
    ws.send(JSON.stringify({ t: 'send', channel: 'anything' }));
    expect(await closed).toBe(1008);
  });
});
