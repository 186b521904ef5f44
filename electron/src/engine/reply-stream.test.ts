// How the engine reads reply streams, against a scripted board: a plain MQTT client on a real
// broker that answers each command with exactly the messages a test gives it, so the odd cases
// (duplicates, gaps, raw or framed error text) are produced on the wire, not simulated inside.
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeFrame, parseCommandTopic, replyErrTopic, replyOutTopic, utf8 } from '../../../protocol/src';
import { startEmbeddedBroker, type EmbeddedBroker } from '../../../testing/brokers';
import { connectedEngine, engineFailure, waitForDevices } from './test-support';
import type { Engine } from './types';

const P = 'scripted/board';
type Reply = { kind: 'out' | 'err'; payload: Uint8Array };
let script: (cmd: string) => Reply[] = () => [];
let broker: EmbeddedBroker;
let board: mqtt.MqttClient;
let engine: Engine;

beforeAll(async () => {
  broker = await startEmbeddedBroker();
  board = await mqtt.connectAsync(broker.url, { protocolVersion: 4 });
  await board.subscribeAsync(`${P}/mqb/cmd/#`, { qos: 1 });
  board.on('message', (topic) => {
    const a = parseCommandTopic(P, topic);
    if (!a) return;
    for (const r of script(a.cmd)) {
      board.publish(r.kind === 'out' ? replyOutTopic(P, a.id) : replyErrTopic(P, a.id), Buffer.from(r.payload), { qos: 1 });
    }
  });
  engine = await connectedEngine(broker.url, { depths: [] });
});

afterAll(async () => {
  await engine?.disconnect();
  await board?.endAsync();
  await broker?.close();
});

const out = (seq: number, last: boolean, body: string): Reply => ({ kind: 'out', payload: encodeFrame(seq, last, utf8(body)) });


describe('reply streams', () => {
  it('drops a duplicated message (a board that reconnected resends it)', async () => {
    script = () => [out(0, false, 'ab'), out(0, false, 'ab'), out(1, false, 'cd'), out(2, true, 'ef')];
    expect(new TextDecoder().decode(await engine.get(P, '/f'))).toBe('abcdef');
  });

  it('fails with a protocol error when a message is missing', async () => {
    script = () => [out(0, false, 'ab'), out(2, true, 'ef')];
    const e = await engineFailure(engine.get(P, '/f'));
    expect(e.code).toBe('protocol-error');
    expect(e.message).toMatch(/expected seq 1, got 2/);
  });

  it('reads error text sent raw, as the original board does', async () => {
    script = () => [{ kind: 'err', payload: utf8('Traceback (most recent call last):\nOSError: [Errno 2] ENOENT\n') }];
    const e = await engineFailure(engine.eval(P, 'open("x")'));
    expect(e.code).toBe('device-error');
    expect(e.message).toBe('Traceback (most recent call last):\nOSError: [Errno 2] ENOENT');
  });

  it('reads error text behind a 0xFFFF header too', async () => {
    script = () => [{ kind: 'err', payload: encodeFrame(0x7fff, true, utf8('nope')) }];
    expect((await engineFailure(engine.eval(P, '1'))).message).toBe('nope');
  });

  it('reports an unknown command as not supported', async () => {
    script = (cmd) => [{ kind: 'err', payload: utf8(`Command '${cmd}' not supported`) }];
    const e = await engineFailure(engine.eval(P, '1'));
    expect(e.code).toBe('not-supported');
  });

  it('sends the original one-message framing (seq 0, last) for eval', async () => {
    let seen: Uint8Array | undefined;
    const grab = (_t: string, payload: Buffer) => (seen = payload);
    board.once('message', grab);
    script = () => [out(0x7fff, true, '2')];
    expect(await engine.eval(P, '1+1')).toBe('2');
    expect([...seen!.subarray(0, 2)]).toEqual([0x80, 0x00]);
  });

  it("refuses a file command's reply over its 256 KiB cap unparsed, and keeps serving that board", async () => {
    const N = 'scripted/native';
    const status = {
      online: true, protocol: 1, runtime: { kind: 'test', version: '0' }, firmware: '1', mode: 'normal', bootReason: 'cold',
      uptime: 1, freeMem: 1, time: 0, capabilities: { maxChunk: 65536, commands: ['eval', 'ls'] },
    };
    const native = await mqtt.connectAsync(broker.url, { protocolVersion: 4 });
    try {
      let reply = '';
      await native.subscribeAsync(`${N}/mqb/cmd/#`, { qos: 1 });
      native.on('message', (topic) => {
        const a = parseCommandTopic(N, topic);
        if (!a) return;
        const body = utf8(reply);
        for (let seq = 0, at = 0; at < body.length || seq === 0; seq++, at += 60_000) {
          native.publish(replyOutTopic(N, a.id), Buffer.from(encodeFrame(seq, at + 60_000 >= body.length, body.subarray(at, at + 60_000))), { qos: 1 });
        }
      });
      await native.publishAsync(`${N}/mqb/status`, JSON.stringify(status), { qos: 1, retain: true });
      engine.addDevice(N);
      await waitForDevices(engine, (all) => all.some((d) => d.prefix === N && d.presence === 'online'));
      // A well-formed listing, padded past the cap: refused before it is decoded or parsed.
      reply = JSON.stringify({ path: '/', entries: [] }) + ' '.repeat(1024 * 1024);
      const e = await engineFailure(engine.ls(N, '/'));
      expect(e.code).toBe('protocol-error');
      expect(e.message).toBe('ls on scripted/native: invalid ls reply: payload too large: 1 MiB, the limit is 256 KiB');
      reply = JSON.stringify({ path: '/', entries: [{ name: 'main.py', type: 'file', size: 3 }] });
      expect(await engine.ls(N, '/')).toMatchObject([{ name: 'main.py', type: 'file', size: 3 }]);
    } finally {
      await native.publishAsync(`${N}/mqb/status`, '', { qos: 1, retain: true });
      await native.endAsync();
    }
  });

  it('fails running commands with a disconnect error when the broker goes away', async () => {
    const b2 = await startEmbeddedBroker();
    const e2 = await connectedEngine(b2.url, { depths: [] });
    try {
      const pending = engineFailure(e2.eval('silent/board', '1'));
      // The command is registered once its subscription is in place; then the broker dies.
      await e2.settle();
      await b2.close();
      expect((await pending).code).toBe('disconnected');
    } finally {
      await e2.disconnect();
    }
  });
});
