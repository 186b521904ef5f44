// Terminal sessions on a real device runtime through a real broker, with a plain mqtt.js client
// playing the host and speaking the terminal topics by hand (docs/protocol.md, "Terminal").
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { commandTopic, decodeFrame, encodeFrame, encodeSingle, makeCommandId, nextTermSeq, termTopic, text, TermEvent, utf8, type TermControl } from '../../../protocol/src';
import { startDevice, type DeviceHandle } from '../index';
import { startEmbeddedBroker, type EmbeddedBroker } from '../../../testing/brokers';
import { BROKERS, type TestBroker } from '../test-support/brokers';
import { connectHost, type TestHost } from '../test-support/host';
import { tmpRoot } from '../test-support/tmp-root';

// eslint-disable-next-line no-control-regex -- ANSI escapes are what we strip
const ANSI = /\x1b\[[0-9;?]*[A-Za-z]|\x1b[>=]/g;

interface Term {
  sid: string;
  /** Everything received so far, ANSI sequences removed. */
  screen(): string;
  bytes(): number;
  events: TermEvent[];
  send(data: string): void;
  ctl(c: TermControl): void;
  /** Resolves once `pred` holds, re-checked on every message of this session. */
  until(pred: () => boolean): Promise<void>;
}

async function openTerm(client: MqttClient, prefix: string, opts: { window?: number; autoAck?: boolean } = {}): Promise<Term> {
  const sid = randomBytes(6).toString('base64url');
  let raw = '';
  let bytes = 0;
  let expect = 0;
  let seqIn = 0;
  const events: TermEvent[] = [];
  const waiters = new Set<() => void>();
  const check = () => waiters.forEach((w) => w());
  const ctl = (c: TermControl) => client.publish(termTopic(prefix, sid, 'ctl'), JSON.stringify(c), { qos: 1 });
  client.on('message', (topic, payload) => {
    if (topic === termTopic(prefix, sid, 'out')) {
      const f = decodeFrame(payload);
      if (!f.ok || f.value.seq !== expect) throw new Error(`out frame out of order: ${f.ok ? f.value.seq : f.error}`);
      expect = nextTermSeq(expect);
      raw += text(f.value.body);
      bytes += f.value.body.length;
      if (opts.autoAck !== false) ctl({ op: 'ack', bytes });
    } else if (topic === termTopic(prefix, sid, 'evt')) {
      events.push(TermEvent.parse(JSON.parse(payload.toString())));
    } else return;
    check();
  });
  await client.subscribeAsync([termTopic(prefix, sid, 'out'), termTopic(prefix, sid, 'evt')], { qos: 1 });
  const term: Term = {
    sid,
    screen: () => raw.replace(ANSI, ''),
    bytes: () => bytes,
    events,
    send(data) {
      client.publish(termTopic(prefix, sid, 'in'), Buffer.from(encodeFrame(seqIn, false, Buffer.from(data))), { qos: 1 });
      seqIn = nextTermSeq(seqIn);
    },
    ctl,
    until: (pred) =>
      new Promise<void>((resolve) => {
        const w = () => {
          if (!pred()) return;
          waiters.delete(w);
          resolve();
        };
        waiters.add(w);
        w();
      }),
  };
  ctl({ op: 'open', cols: 80, rows: 24, ...(opts.window ? { window: opts.window } : {}) });
  await term.until(() => events.some((e) => e.op === 'opened'));
  return term;
}

/** An eval by hand on `client`, so its reply is ordered with that client's terminal output. */
async function evalOn(client: MqttClient, prefix: string, code: string): Promise<string> {
  const id = makeCommandId((n) => randomBytes(n));
  const topic = `${prefix}/mqb/reply/out/${id}`;
  await client.subscribeAsync(topic, { qos: 1 });
  const reply = new Promise<string>((resolve) => {
    const on = (t: string, payload: Buffer) => {
      if (t !== topic) return;
      client.off('message', on);
      resolve(text(payload.subarray(2)));
    };
    client.on('message', on);
  });
  client.publish(commandTopic(prefix, 'eval', id), Buffer.from(encodeSingle(utf8(code))), { qos: 1 });
  return reply;
}

/** Output after the last occurrence of `marker` (the echoed input line). */
const after = (screen: string, marker: string) => screen.slice(screen.lastIndexOf(marker) + marker.length);

for (const kind of BROKERS) {
  describe.skipIf(kind.skip !== undefined)(`terminal sessions over ${kind.name}`, () => { // the Mosquitto kind is skipped without Mosquitto: apt-get install mosquitto (CI installs it)
    let broker: TestBroker;
    let device: DeviceHandle;
    let client: MqttClient;
    let host: TestHost;
    let root: ReturnType<typeof tmpRoot>;
    const prefix = 'test/term';

    beforeAll(async () => {
      broker = await kind.start();
      root = tmpRoot();
      device = await startDevice({ url: broker.url, prefix, root: root.dir, evalTimeoutMs: 1_000 });
      client = await mqtt.connectAsync(broker.url, { clientId: `term-host-${randomBytes(4).toString('hex')}` });
      host = await connectHost(broker.url);
    });
    afterAll(async () => {
      await client?.endAsync();
      await host?.close();
      await device?.stop();
      await broker?.stop();
      root?.cleanup();
    });

    it('advertises the terminal capability', () => {
      expect(device.status().capabilities.terminal).toBe(true);
    });

    it('evaluates 1+1 to 2 after a prompt', async () => {
      const t = await openTerm(client, prefix);
      await t.until(() => t.screen().includes('›'));
      t.send('1+1\r');
      await t.until(() => /1\+1\r\n2\r\n/.test(t.screen()));
      t.ctl({ op: 'close' });
      await t.until(() => t.events.some((e) => e.op === 'closed'));
    });

    it('keeps variables between lines, in the same context as the eval command', async () => {
      const t = await openTerm(client, prefix);
      t.send('var answer = 40\r');
      t.send('answer + 2\r');
      await t.until(() => /answer \+ 2\r\n42\r\n/.test(t.screen()));
      const r = await host.eval(prefix, 'answer');
      expect(r.ok && text(r.data)).toBe('40');
      t.ctl({ op: 'close' });
    });

    it('prints console output of the evaluation in the terminal', async () => {
      const t = await openTerm(client, prefix);
      t.send('console.log("hi " + 3); 7\r');
      await t.until(() => /hi 3\r\n7\r\n/.test(t.screen()));
      t.ctl({ op: 'close' });
    });

    it('shows an error with the user’s frames only, none of the runtime’s files', async () => {
      const t = await openTerm(client, prefix);
      t.send('function boom() { return null.x }\r');
      t.send('boom()\r');
      await t.until(() => /at boom \(repl:1:/.test(after(t.screen(), 'boom()\r\n')));
      const shown = after(t.screen(), 'boom()\r\n');
      expect(shown).toMatch(/Uncaught TypeError: Cannot read properties of null/);
      expect(shown).not.toMatch(/interrupt\.ts|session\.ts|device-runtime|node:/);
      t.ctl({ op: 'close' });
    });

    it('continues an incomplete block on the next line', async () => {
      const t = await openTerm(client, prefix);
      t.send('function twice(n) {\r');
      await t.until(() => t.screen().includes('... '));
      t.send('return n * 2 }\r');
      t.send('twice(21)\r');
      await t.until(() => /twice\(21\)\r\n42\r\n/.test(t.screen()));
      t.ctl({ op: 'close' });
    });

    it('completes a global name of the device context with Tab', async () => {
      const t = await openTerm(client, prefix);
      await t.until(() => t.screen().includes('›'));
      t.send('watchd\t');
      await t.until(() => t.screen().includes('watchdog'));
      t.send('.feed === undefined\r');
      await t.until(() => /false\r\n/.test(after(t.screen(), 'feed === undefined')));
      t.ctl({ op: 'close' });
    });

    it('stops sending at the window until the host acks, then resumes', async () => {
      const window = 4096;
      const t = await openTerm(client, prefix, { window, autoAck: false });
      await t.until(() => t.screen().includes('›'));
      const promptBytes = t.bytes();
      t.ctl({ op: 'ack', bytes: promptBytes });
      // 20,000 bytes of output: far more than the window.
      t.send('for (let i = 0; i < 200; i++) print(String(i).padStart(97, "."))\r');
      await t.until(() => t.bytes() - promptBytes >= window);
      // Prove nothing more is coming: a round trip through the device on the same client (an
      // eval, whose reply the device publishes after any output it had sent), and still no
      // byte beyond the window.
      expect(await evalOn(client, prefix, '1')).toBe('1');
      expect(t.bytes() - promptBytes).toBe(window);
      t.ctl({ op: 'ack', bytes: t.bytes() });
      await t.until(() => t.bytes() - promptBytes > window);
      // Keep acking everything until the loop's output is complete.
      const ackAll = () => t.ctl({ op: 'ack', bytes: t.bytes() });
      client.on('message', ackAll);
      ackAll();
      await t.until(() => t.screen().includes('...199\r\n'));
      client.off('message', ackAll);
      t.ctl({ op: 'close' });
    });

    it('answers input for an unknown session with closed', async () => {
      const sid = 'nosuchsession';
      const got: TermEvent[] = [];
      await client.subscribeAsync(termTopic(prefix, sid, 'evt'), { qos: 1 });
      const done = new Promise<void>((resolve) =>
        client.on('message', (topic, payload) => {
          if (topic !== termTopic(prefix, sid, 'evt')) return;
          got.push(TermEvent.parse(JSON.parse(payload.toString())));
          resolve();
        }),
      );
      client.publish(termTopic(prefix, sid, 'in'), Buffer.from(encodeFrame(0, false, Buffer.from('x'))), { qos: 1 });
      await done;
      expect(got[0]).toMatchObject({ op: 'closed' });
    });

    it('cuts a busy loop off at the eval time limit when no interrupt can reach it', async () => {
      // Host and device share this process: the loop blocks the host too, as it blocks the
      // broker of the app's in-process demo fleet. The backstop limit still ends it.
      const t = await openTerm(client, prefix);
      t.send('var before = 1; while(true){}\r');
      await t.until(() => /timed out/.test(after(t.screen(), 'while(true){}\r\n')));
      t.send('before + 1\r');
      await t.until(() => /before \+ 1\r\n2\r\n/.test(t.screen()));
      t.ctl({ op: 'close' });
    });

    it('refuses a control message over its size cap with an error event, and acts on none of it', async () => {
      const t = await openTerm(client, prefix);
      await t.until(() => t.screen().includes('›'));
      t.send('6*7');
      await t.until(() => t.screen().includes('6*7'));
      // A valid interrupt padded past the 4 KiB control cap: an interrupt would clear the line.
      await client.publishAsync(termTopic(prefix, t.sid, 'ctl'), `{"op":"interrupt"}${' '.repeat(5_000)}`, { qos: 1 });
      await t.until(() => t.events.some((e) => e.op === 'error'));
      expect(t.events.find((e) => e.op === 'error')).toMatchObject({ message: expect.stringMatching(/^bad control message: invalid terminal control: .*4 KiB/) });
      t.send('\r');
      await t.until(() => after(t.screen(), '6*7').includes('42'));
      t.ctl({ op: 'close' });
    });

    it('makes room for a new session by closing the one quiet for longest', async () => {
      const first = await openTerm(client, prefix);
      const others = [];
      for (let i = 0; i < 3; i++) others.push(await openTerm(client, prefix));
      // Four open (the limit): a fifth replaces the first, which had no traffic since opening.
      others[0]!.send('1\r');
      const fifth = await openTerm(client, prefix);
      await first.until(() => first.events.some((e) => e.op === 'closed'));
      expect(first.events.find((e) => e.op === 'closed')).toMatchObject({ reason: 'replaced by a newer session' });
      for (const t of [...others, fifth]) t.ctl({ op: 'close' });
      await fifth.until(() => fifth.events.some((e) => e.op === 'closed'));
    });

    it('ends the session on Ctrl-D', async () => {
      const t = await openTerm(client, prefix);
      await t.until(() => t.screen().includes('›'));
      t.send('\x04');
      await t.until(() => t.events.some((e) => e.op === 'closed'));
      expect(t.events.find((e) => e.op === 'closed')).toMatchObject({ reason: 'exit' });
    });
  });
}

// A busy loop blocks the whole process it runs in, so the host must live elsewhere: the device
// runs as users run it, from the bin (supervised runtime child), and this process is the host.
describe('interrupting a busy evaluation', () => {
  const BIN = path.resolve(import.meta.dirname, '../../../bin/mqboard-device.mjs');
  const prefix = 'test/busy';
  let broker: EmbeddedBroker;
  let child: ChildProcess;
  let client: MqttClient;
  let host: TestHost;
  let root: ReturnType<typeof tmpRoot>;

  beforeAll(async () => {
    broker = await startEmbeddedBroker();
    root = tmpRoot();
    host = await connectHost(broker.url);
    const online = host.status(prefix, (s) => s.online, 20_000);
    child = spawn(process.execPath, [BIN, '-s', '127.0.0.1', '-p', String(broker.port), '--prefix', prefix, '--root', root.dir, '--quiet'], { stdio: 'ignore' });
    await online;
    client = await mqtt.connectAsync(broker.url, { clientId: `term-host-${randomBytes(4).toString('hex')}` });
  });
  afterAll(async () => {
    child?.kill('SIGKILL');
    await client?.endAsync();
    await host?.close();
    await broker?.close();
    root?.cleanup();
  });

  it('interrupts while(true){} and returns to the prompt, with the context intact', async () => {
      const t = await openTerm(client, prefix);
      t.send('var kept = "still here"\r');
      t.send('while(true){}\r');
      // The line is echoed before the evaluation starts: from then on the device is busy.
      await t.until(() => t.screen().includes('while(true){}\r\n'));
      t.ctl({ op: 'interrupt' });
      await t.until(() => /interrupted/i.test(after(t.screen(), 'while(true){}\r\n')));
      t.send('kept\r');
      await t.until(() => after(t.screen(), 'kept\r\n').includes("'still here'"));
      // The device itself never stopped serving commands.
      const r = await host.eval(prefix, '6*7');
      expect(r.ok && text(r.data)).toBe('42');
      t.ctl({ op: 'close' });
    });

});
