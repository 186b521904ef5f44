// The simulated original board against a real broker (embedded aedes, and Mosquitto when
// installed), driven by a plain mqtt.js client that behaves like the original CLI.
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeFrame, decodeLogLine, encodeFrame, logTopic } from '../../../protocol/src';
import { startEmbeddedBroker, startMosquitto, mosquittoMissingReason } from '../../../testing/brokers';
import { startOriginalBoard, type OriginalBoard } from './index';
import { CommandError, TestCli } from './test-client';

interface BrokerUnderTest {
  url: string;
  close(): Promise<void>;
}

const brokers: [string, () => Promise<BrokerUnderTest>][] = [
  ['aedes', async () => startEmbeddedBroker()],
];
if (mosquittoMissingReason) console.warn(mosquittoMissingReason);
else brokers.push(['mosquitto', async () => { const m = await startMosquitto(); return { url: m.url, close: () => m.stop() }; }]);

const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
const errorOf = async (p: Promise<unknown>): Promise<string> => {
  try {
    await p;
  } catch (e) {
    if (e instanceof CommandError) return e.message;
    throw e;
  }
  throw new Error('expected an error reply');
};

describe.each(brokers)('original board via %s', (_name, startBroker) => {
  let broker: BrokerUnderTest;
  let board: OriginalBoard;
  let cli: TestCli;
  let root: string;
  const prefix = `test/orig-${randomBytes(3).toString('hex')}`;

  beforeAll(async () => {
    broker = await startBroker();
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'mqb-orig-'));
    fs.mkdirSync(path.join(root, 'lib'));
    fs.writeFileSync(path.join(root, 'lib', 'a.py'), 'print("a")\n');
    fs.writeFileSync(path.join(root, 'boot.py'), '# boot\n');
    cli = await TestCli.connect(broker.url, prefix);
    // Subscribe before the board starts so its boot log and first feed are observed.
    await cli.subscribe(`${prefix}/log`);
    await cli.subscribe(`${prefix}/mqb/cmd/eval/0F00D/#`);
    board = await startOriginalBoard({ url: broker.url, prefix, root, watchdogIntervalMs: 1000 });
    await cli.waitFor((m) => m.payload.toString().includes(`Subscribed to ${prefix}/mqb/cmd/#`), 'subscribed log');
  });

  afterAll(async () => {
    await board?.stop();
    await cli?.end();
    await broker?.close();
    if (root) {
      fs.rmSync(root, { recursive: true, force: true });
      fs.rmSync(`${root}.ota`, { recursive: true, force: true });
    }
  });

  it('evaluates an expression to its repr', async () => {
    expect((await cli.perform('eval', '45+876')).text).toBe('921');
    expect((await cli.perform('eval', "'a' * 3")).text).toBe("'aaa'");
  });

  it('executes statements and returns printed output, state persists', async () => {
    // The esp32 port cooks stdout before dupterm captures it: lines end in \r\n.
    expect((await cli.perform('eval', 'x = 7\nprint(x * 6)')).text).toBe('42\r\n');
    expect((await cli.perform('eval', 'x')).text).toBe('7');
    // The README's example, answered as a MicroPython board would.
    expect((await cli.perform('eval', 'import sys; print(sys.implementation)')).text).toBe("(name='micropython', version=(1, 12, 0), mpy=10757)\r\n");
  });

  it('sends exceptions as traceback text on reply/err, ValueErrors as protocol errors', async () => {
    const tb = await errorOf(cli.perform('eval', '1/0'));
    expect(tb).toMatch(/^Traceback \(most recent call last\):\n/);
    expect(tb).toContain('ZeroDivisionError');
    // The original catches ValueError around the whole dispatch.
    expect(await errorOf(cli.perform('eval', "int('x')"))).toMatch(/^MQRepl protocol error eval: invalid literal/);
  });

  it('names board files in tracebacks, never the simulator’s or CPython’s files on the host', async () => {
    fs.writeFileSync(path.join(root, 'lib', 'faulty.py'), 'def read():\n    return open("/missing.txt").read()\n');
    const tb = await errorOf(cli.perform('eval', 'import faulty\nfaulty.read()'));
    expect(tb).toBe('Traceback (most recent call last):\n  File "<exec>", line 2, in <module>\n  File "/lib/faulty.py", line 2, in read\nOSError: [Errno 2] ENOENT\n');
    // A TypeError raised inside CPython's json module: its files are the host's.
    expect(await errorOf(cli.perform('eval', 'import json\njson.dumps(object())'))).toBe(
      'Traceback (most recent call last):\n  File "<exec>", line 2, in <module>\nTypeError: Object of type object is not JSON serializable\n',
    );
  });

  it('runs MicroPython-style snippets with uos.ilistdir and uhashlib.sha256 inside the root', async () => {
    const src = [
      'import uos, uhashlib, ubinascii',
      "for f in uos.ilistdir('/lib'):",
      "  h = uhashlib.sha256(open('/lib/' + f[0], 'rb').read())",
      "  print(f[0], hex(f[1]), f[3], ubinascii.hexlify(h.digest()).decode())",
      "print(sorted(uos.listdir('/')))",
    ].join('\n');
    const r = await cli.perform('eval', src);
    const want = sha256(fs.readFileSync(path.join(root, 'lib', 'a.py')));
    expect(r.text).toContain(`a.py 0x8000 11 ${want}\r\n`);
    expect(r.text).toContain("'lib'");
    // The original CLI's ls snippet, verbatim in spirit: sizes from 4-tuples, '/' for dirs.
    const ls = await cli.perform('eval', "import uos\nfor f in uos.ilistdir('/'):\n print('{:12} {}{}'.format(f[3]if len(f)>3 else 0,f[0],'/'if f[1]&0x4000 else ''))");
    expect(ls.text).toMatch(/\s+7 boot\.py\r\n/);
    expect(ls.text).toMatch(/\s+0 lib\/\r\n/);
    // Code on the board's filesystem imports along sys.path ('', /lib, /src).
    fs.writeFileSync(path.join(root, 'lib', 'greet.py'), 'def hi():\n    return "hi"\n');
    expect((await cli.perform('eval', 'import greet\nprint(greet.hi())')).text).toBe('hi\r\n');
    // No sha1, like builds without SSL.
    expect(await errorOf(cli.perform('eval', 'import uhashlib\nuhashlib.sha1()'))).toContain("no attribute 'sha1'");
  });

  it('refuses paths that leave the root', async () => {
    expect(await errorOf(cli.perform('eval', "open('/../../etc/passwd')"))).toContain('OSError: [Errno 13] EACCES');
    expect(await errorOf(cli.perform('get', '', { tail: '/../../etc/passwd' }))).toContain('EACCES');
  });

  it('gets a 10 KB file in 2800-byte chunks with a final empty last frame', async () => {
    const data = randomBytes(10 * 1024);
    fs.writeFileSync(path.join(root, 'ten.bin'), data);
    const r = await cli.perform('get', '', { tail: '/ten.bin' });
    expect(r.frames.map((f) => f.body.length)).toEqual([2800, 2800, 2800, 1840, 0]);
    expect(r.frames.map((f) => f.seq)).toEqual([0, 1, 2, 3, 4]);
    expect(r.frames.map((f) => f.last)).toEqual([false, false, false, false, true]);
    expect(sha256(r.out)).toBe(sha256(data));
  });

  it('puts a file in place without acks and replies OK', async () => {
    const data = randomBytes(5000);
    const r = await cli.perform('put', data, { tail: '/lib/up.bin' });
    expect(r.acks).toEqual([]);
    expect(r.text).toBe('OK');
    expect(sha256(fs.readFileSync(path.join(root, 'lib', 'up.bin')))).toBe(sha256(data));
  });

  it('reports a put gap as a protocol error and leaves the truncated file', async () => {
    const a = new Uint8Array(Buffer.from('first-'));
    const frames = [encodeFrame(0, false, a), encodeFrame(2, true, new Uint8Array(Buffer.from('third')))];
    expect(await errorOf(cli.perform('put', '', { tail: '/gap.txt', frames }))).toBe('MQRepl protocol error put: message missing: 2 vs. 1');
    expect(fs.readFileSync(path.join(root, 'gap.txt'), 'utf8')).toBe('first-');
    expect(await errorOf(cli.perform('put', '', { tail: '/gap.txt', frames: [encodeFrame(3, true, a)] }))).toBe('MQRepl protocol error put: message missing: 3 vs. 1');
  });

  it('accepts an OTA with SEQ acks every 8 messages and checks the SHA-256', async () => {
    const image = randomBytes(17 * 1400 + 100); // 18 messages: acks at 0, 8, 16
    image[0] = 0xe9; // an ESP32 app image's magic byte
    const r = await cli.perform('ota', image, { tail: sha256(image) });
    expect(r.acks).toEqual([0, 8, 16]);
    expect(r.text).toBe('OK');
    const bad = await errorOf(cli.perform('ota', image, { tail: '00'.repeat(32) }));
    expect(bad).toBe(`MQRepl protocol error ota: SHA mismatch calc:b'${sha256(image)}' check=b'${'00'.repeat(32)}'`);
  });

  it('refuses an OTA image without the ESP32 magic byte, as set_boot does, and keeps the boot partition', async () => {
    const state = () => fs.readFileSync(path.join(`${root}.ota`, 'state.json'), 'utf8');
    const ok = randomBytes(3000);
    ok[0] = 0xe9;
    expect((await cli.perform('ota', ok, { tail: sha256(ok) })).text).toBe('OK');
    const before = state();
    const junk = randomBytes(3000);
    junk[0] = 0x42;
    expect(await errorOf(cli.perform('ota', junk, { tail: sha256(junk) }))).toBe(
      "Traceback (most recent call last):\nOSError: (-5379, 'ESP_ERR_OTA_VALIDATE_FAILED')\n",
    );
    expect(state()).toBe(before);
  });

  it('rejects unknown commands with raw text on reply/err', async () => {
    expect(await errorOf(cli.perform('ls', ''))).toBe("Command 'ls' not supported");
  });

  it('feeds its watchdog through its own command topic', async () => {
    const feed = await cli.waitFor((m) => m.topic === `${prefix}/mqb/cmd/eval/0F00D/`, 'watchdog feed');
    const f = decodeFrame(new Uint8Array(feed.payload));
    expect(f.ok && f.value.seq === 0 && f.value.last).toBe(true);
    expect(Buffer.from(feed.payload.subarray(2)).toString()).toBe('watchdog.feed()');
    await cli.waitFor((m) => m.topic === logTopic(prefix) && / mqrepl: Dispatch eval, msglen=15 seq=0 last=True id=0F00D dup=0$/.test(m.payload.toString()), 'feed dispatch log');
  });

  it('publishes log lines in the original format', async () => {
    await cli.waitFor((m) => m.payload.toString().includes('Reset cause: PWRON_RESET'), 'boot log');
    const lines = cli.seen.filter((m) => m.topic === logTopic(prefix));
    expect(lines.length).toBeGreaterThan(5);
    for (const l of lines) {
      const d = decodeLogLine(new Uint8Array(l.payload));
      expect(d.ok, l.payload.toString()).toBe(true);
    }
    const texts = lines.map((l) => l.payload.toString());
    expect(texts.some((t) => /^W \d+ {5}main: MicroPython .*simulated/.test(t))).toBe(true);
    expect(texts.some((t) => /^W \d+ {5}main: Boot partition: ota_\d$/.test(t))).toBe(true);
    expect(texts.some((t) => /^I \d+ {5}main: MEM free=\d+/.test(t))).toBe(true);
    expect(texts).toContain(texts.find((t) => t.endsWith(`  mqrepl: Subscribed to ${prefix}/mqb/cmd/#`)));
  });
});

describe('original board resets', () => {
  it('restarts after machine.reset() and boots into safe mode after watchdog.reset(False)', async () => {
    const broker = await startEmbeddedBroker();
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'mqb-orig-'));
    const prefix = `test/reset-${randomBytes(3).toString('hex')}`;
    const cli = await TestCli.connect(broker.url, prefix);
    await cli.subscribe(`${prefix}/log`);
    const board = await startOriginalBoard({ url: broker.url, prefix, root, watchdogIntervalMs: 1000, rebootDelayMs: 50 });
    try {
      const subscribed = (n: number) => (m: { payload: Buffer }) =>
        m.payload.toString().includes('Subscribed to') && cli.seen.filter((x) => x.payload.toString().includes('Subscribed to')).indexOf(m as never) === n;
      await cli.waitFor(subscribed(0), 'first boot');
      // machine.reset() never replies: fire it and wait for the next boot's log.
      await cli.client.publishAsync(`${prefix}/mqb/cmd/eval/Zz000001`, Buffer.from('\x80\x00import machine\nmachine.reset()', 'latin1'), { qos: 1 });
      await cli.waitFor((m) => m.payload.toString().includes('Reset cause: SOFT_RESET'), 'reboot');
      await cli.waitFor(subscribed(1), 'second boot');
      // The CLI's reset snippet: sys.modules['watchdog'].reset(False) -> safe mode next boot.
      const r = await cli.perform('eval', "sys.modules['watchdog'].reset(False)\nlog.critical('Resetting via mqboard safemode=True')\n");
      expect(r.text).toBe('');
      await cli.waitFor((m) => m.payload.toString().includes('SAFE MODE boot'), 'safe mode boot');
      await cli.waitFor(subscribed(2), 'third boot');
      expect((await cli.perform('eval', "sys.modules['__main__'].safemode")).text).toBe('True');
    } finally {
      await board.stop();
      await cli.end();
      await broker.close();
      fs.rmSync(root, { recursive: true, force: true });
      fs.rmSync(`${root}.ota`, { recursive: true, force: true });
    }
  });

  it('is reset by its hardware watchdog when an eval hangs', async () => {
    const broker = await startEmbeddedBroker();
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'mqb-orig-'));
    const prefix = `test/wdt-${randomBytes(3).toString('hex')}`;
    const cli = await TestCli.connect(broker.url, prefix);
    await cli.subscribe(`${prefix}/log`);
    const board = await startOriginalBoard({ url: broker.url, prefix, root, watchdogIntervalMs: 250, rebootDelayMs: 50 });
    try {
      await cli.waitFor((m) => m.payload.toString().includes('Subscribed to'), 'boot');
      // The board is single-threaded: a busy loop starves the feeder and the WDT (4 x 250 ms) fires.
      await cli.client.publishAsync(`${prefix}/mqb/cmd/eval/Zz000002`, Buffer.from('\x80\x00while True: pass', 'latin1'), { qos: 1 });
      await cli.waitFor((m) => m.payload.toString().includes('Reset cause: WDT_RESET'), 'watchdog reset');
    } finally {
      await board.stop();
      await cli.end();
      await broker.close();
      fs.rmSync(root, { recursive: true, force: true });
      fs.rmSync(`${root}.ota`, { recursive: true, force: true });
    }
  });

  it.skipIf(!!mosquittoMissingReason)('loses its subscription when the broker restarts and recovers through its watchdog', async () => { // skipped without Mosquitto: apt-get install mosquitto (CI installs it)
    const m = await startMosquitto();
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'mqb-orig-'));
    const prefix = `test/brk-${randomBytes(3).toString('hex')}`;
    const cli = await TestCli.connect(m.url, prefix);
    await cli.subscribe(`${prefix}/log`);
    const board = await startOriginalBoard({ url: m.url, prefix, root, watchdogIntervalMs: 250, rebootDelayMs: 50 });
    try {
      await cli.waitFor((x) => x.payload.toString().includes('Subscribed to'), 'boot');
      // No persistence: the board's clean=0 session is gone and the original never resubscribes,
      // so its feeds go nowhere until the hardware WDT resets it and it connects clean again.
      await m.restart();
      await cli.waitFor((x) => x.payload.toString().includes('Reset cause: WDT_RESET'), 'watchdog reset after broker restart', 15_000);
      await cli.waitFor((x) => x.payload.toString().includes('Subscribed to') && cli.seen.indexOf(x) > cli.seen.findIndex((y) => y.payload.toString().includes('WDT_RESET')), 'resubscribed');
      expect((await cli.perform('eval', '6*7')).text).toBe('42');
    } finally {
      await board.stop();
      await cli.end();
      await m.stop();
      fs.rmSync(root, { recursive: true, force: true });
      fs.rmSync(`${root}.ota`, { recursive: true, force: true });
    }
  });
});
