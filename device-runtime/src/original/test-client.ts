// Test double for the original MQBoard CLI (tve/mqboard mqboard/engine.py): a plain mqtt.js
// client that sends framed commands and collects replies the same way. Used only by tests.
import { randomBytes } from 'node:crypto';
import mqtt, { type MqttClient } from 'mqtt';
import { commandTopic, concatBytes, decodeFrame, frameChunks, makeCommandId, replyErrTopic, replyOutTopic } from '../../../protocol/src';

export interface Reply {
  /** Data frames in arrival order (SEQ acks excluded). */
  frames: { seq: number; last: boolean; body: Uint8Array }[];
  acks: number[];
  out: Uint8Array;
  text: string;
}

export class CommandError extends Error {}

export interface Received {
  topic: string;
  payload: Buffer;
  dup: boolean;
}

export class TestCli {
  private readonly listeners = new Set<(m: Received) => void>();
  readonly seen: Received[] = [];

  private constructor(readonly client: MqttClient, readonly prefix: string) {
    client.on('message', (topic, payload, packet) => {
      const m = { topic, payload, dup: packet.dup === true };
      this.seen.push(m);
      for (const l of [...this.listeners]) l(m);
    });
  }

  static async connect(url: string, prefix: string): Promise<TestCli> {
    const client = await mqtt.connectAsync(url, { protocolVersion: 4, clean: true, reconnectPeriod: 200 });
    return new TestCli(client, prefix);
  }

  async subscribe(topic: string): Promise<void> {
    await this.client.subscribeAsync(topic, { qos: 1 });
  }

  /** Resolves with the first message (already seen or future) that matches. */
  waitFor(pred: (m: Received) => boolean, what: string, timeoutMs = 10_000): Promise<Received> {
    const hit = this.seen.find(pred);
    if (hit) return Promise.resolve(hit);
    return new Promise((resolve, reject) => {
      const l = (m: Received) => {
        if (!pred(m)) return;
        this.listeners.delete(l);
        clearTimeout(t);
        resolve(m);
      };
      const t = setTimeout(() => {
        this.listeners.delete(l);
        reject(new Error(`timed out waiting for ${what}`));
      }, timeoutMs);
      this.listeners.add(l);
    });
  }

  /**
   * Sends one command as the original CLI does and waits for the reply stream's last frame or
   * an error. `frames` overrides the payloads sent (to test gaps and duplicates).
   */
  async perform(cmd: string, data: Uint8Array | string, opts: { tail?: string; chunk?: number; frames?: Uint8Array[]; timeoutMs?: number } = {}): Promise<Reply> {
    const id = makeCommandId((n) => randomBytes(n));
    const out = replyOutTopic(this.prefix, id);
    const err = replyErrTopic(this.prefix, id);
    await this.client.subscribeAsync([out, err], { qos: 1 });
    const body = typeof data === 'string' ? new Uint8Array(Buffer.from(data)) : data;
    const frames = opts.frames ?? [...frameChunks(body, opts.chunk ?? 1400)];
    const reply: Reply = { frames: [], acks: [], out: new Uint8Array(), text: '' };
    const done = new Promise<Reply>((resolve, reject) => {
      const t = setTimeout(() => {
        this.listeners.delete(l);
        reject(new Error(`timeout waiting for reply to ${cmd}`));
      }, opts.timeoutMs ?? 10_000);
      const l = (m: Received) => {
        if (m.topic === err) {
          this.listeners.delete(l);
          clearTimeout(t);
          reject(new CommandError(m.payload.toString('utf8')));
          return;
        }
        if (m.topic !== out) return;
        const f = decodeFrame(new Uint8Array(m.payload));
        if (!f.ok) return;
        const text = Buffer.from(f.value.body).toString('utf8');
        if (f.value.body.length < 10 && text.startsWith('SEQ ')) {
          reply.acks.push(Number(text.slice(4)));
          return;
        }
        reply.frames.push({ seq: f.value.seq, last: f.value.last, body: f.value.body });
        if (f.value.last) {
          this.listeners.delete(l);
          clearTimeout(t);
          reply.out = concatBytes(reply.frames.map((x) => x.body));
          reply.text = Buffer.from(reply.out).toString('utf8');
          resolve(reply);
        }
      };
      this.listeners.add(l);
    });
    // The original CLI leaves out the trailing slash when there is no tail.
    const topic = opts.tail ? commandTopic(this.prefix, cmd, id, opts.tail) : `${this.prefix}/mqb/cmd/${cmd}/${id}`;
    for (const f of frames) await this.client.publishAsync(topic, Buffer.from(f), { qos: 1 });
    try {
      return await done;
    } finally {
      await this.client.unsubscribeAsync([out, err]).catch(() => undefined);
    }
  }

  async end(): Promise<void> {
    await this.client.endAsync();
  }
}
