// MQRepl's dispatch rules without a broker: the dup rule, the topic split, the single-message
// rule and the original's inverted OTA sequence checks. The interpreter is the real helper.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeFrame, utf8 } from '../../../protocol/src';
import { MQRepl } from './mqrepl';
import { Partitions } from './ota';
import { PythonHost } from './python-host';

const P = 'dev/x';
let root: string;
let python: PythonHost;
let sent: { topic: string; text: string; raw: Uint8Array }[];
let logs: string[];

const newRepl = () =>
  new MQRepl({
    prefix: P,
    python,
    partitions: new Partitions(root),
    publish: async (topic, raw) => {
      sent.push({ topic, raw, text: Buffer.from(raw).toString('utf8') });
    },
    log: (l, n, t) => logs.push(`${l} ${n}: ${t}`),
  });
const frame = (seq: number, last: boolean, s: string) => encodeFrame(seq, last, utf8(s));
const settle = () => new Promise((r) => setImmediate(r));

beforeAll(async () => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'mqb-repl-'));
  python = new PythonHost({ root, prefix: P, bootEpochMs: Date.now(), safemode: false, resetCause: 1, firmware: { version: 'v1.12-mqboard', release: '1.12.0' } }, () => undefined);
  await python.whenReady();
});

afterAll(() => {
  python.kill();
  fs.rmSync(root, { recursive: true, force: true });
  fs.rmSync(`${root}.ota`, { recursive: true, force: true });
});

describe('MQRepl dispatch', () => {
  it('skips dup-flagged commands after start until the first non-dup, then accepts dups', async () => {
    sent = [];
    logs = [];
    const r = newRepl();
    await r.onMessage(`${P}/mqb/cmd/eval/a1`, frame(0, true, '1+1'), true);
    await settle();
    expect(sent).toEqual([]);
    await r.onMessage(`${P}/mqb/cmd/eval/a2`, frame(0, true, '2+2'), false);
    await r.onMessage(`${P}/mqb/cmd/eval/a3`, frame(0, true, '3+3'), true);
    await settle();
    expect(sent.map((s) => [s.topic, s.text.slice(2)])).toEqual([
      [`${P}/mqb/reply/out/a2`, '4'],
      [`${P}/mqb/reply/out/a3`, '6'],
    ]);
    expect(sent[0]!.raw.slice(0, 2)).toEqual(new Uint8Array([0xff, 0xff]));
    expect(logs).toContain('I mqrepl: Dispatch eval, msglen=3 seq=0 last=True id=a2 dup=0');
  });

  it('ignores short messages, other topics and topics without an id', async () => {
    sent = [];
    const r = newRepl();
    await r.onMessage(`${P}/mqb/cmd/eval/a1`, new Uint8Array([0x80]), false);
    await r.onMessage(`${P}/mqb/cmdx/eval/a1`, frame(0, true, '1'), false);
    await r.onMessage(`${P}/mqb/cmd/eval`, frame(0, true, '1'), false);
    await settle();
    expect(sent).toEqual([]);
  });

  it('answers unknown commands and multi-message evals with the original texts', async () => {
    sent = [];
    const r = newRepl();
    await r.onMessage(`${P}/mqb/cmd/exec/b1/x/y`, frame(0, true, ''), false);
    await r.onMessage(`${P}/mqb/cmd/eval/b2`, frame(0, false, '1'), false);
    await settle();
    expect(sent.map((s) => [s.topic, s.text])).toEqual([
      [`${P}/mqb/reply/err/b1`, "Command 'exec' not supported"],
      [`${P}/mqb/reply/err/b2`, 'MQRepl protocol error eval: only single message supported'],
    ]);
  });

  it('keeps slashes in the tail: a put to //lib/x.py writes <root>/lib/x.py', async () => {
    sent = [];
    fs.mkdirSync(path.join(root, 'lib'), { recursive: true });
    const r = newRepl();
    await r.onMessage(`${P}/mqb/cmd/put/c1//lib/x.py`, frame(0, false, 'ab'), false);
    await r.onMessage(`${P}/mqb/cmd/put/c1//lib/x.py`, frame(0, false, 'ab'), false); // seq 0 again reopens
    await r.onMessage(`${P}/mqb/cmd/put/c1//lib/x.py`, frame(1, false, 'cd'), false);
    await r.onMessage(`${P}/mqb/cmd/put/c1//lib/x.py`, frame(1, false, 'cd'), false); // duplicate: dropped
    await r.onMessage(`${P}/mqb/cmd/put/c1//lib/x.py`, frame(2, true, 'ef'), false);
    await settle();
    expect(fs.readFileSync(path.join(root, 'lib', 'x.py'), 'utf8')).toBe('abcdef');
    expect(sent.map((s) => s.text.slice(2))).toEqual(['OK']);
  });

  it('reproduces the original OTA checks: a duplicate fails, a gap is swallowed', async () => {
    sent = [];
    logs = [];
    const r = newRepl();
    const t = `${P}/mqb/cmd/ota/d1/${'0'.repeat(64)}`;
    await r.onMessage(t, frame(0, false, 'x'), false);
    await r.onMessage(t, frame(0, false, 'x'), false); // seq 0 restarts the session
    await r.onMessage(t, frame(1, false, 'y'), false);
    await r.onMessage(t, frame(1, false, 'y'), false); // duplicate
    await r.onMessage(t, frame(5, true, 'z'), false); // gap
    await settle();
    expect(sent.map((s) => (s.topic.includes('/out/') ? Buffer.from(s.raw.subarray(2)).toString() : s.text))).toEqual(['SEQ 0', 'SEQ 0', 'MQRepl protocol error ota: message missing']);
    expect(logs).toContain('W mqrepl: Duplicate OTA message seq=5');
  });

  it('bounds captured output at 2800 bytes and reports file errors as OSError tracebacks', async () => {
    sent = [];
    logs = [];
    const r = newRepl();
    await r.onMessage(`${P}/mqb/cmd/eval/e0`, frame(0, true, 'print(1)'), false);
    await r.onMessage(`${P}/mqb/cmd/eval/e1`, frame(0, true, "s = 'x' * 5000\nprint(s)"), false);
    await r.onMessage(`${P}/mqb/cmd/get/e2//nope.txt`, frame(0, true, ''), false);
    await r.onMessage(`${P}/mqb/cmd/put/e3//no/dir/f.txt`, frame(0, true, 'x'), false);
    await r.onMessage(`${P}/mqb/cmd/get/e4//lib`, frame(0, true, ''), false);
    await settle();
    // A lone print(...) is an expression: the original replies its repr, the text goes to the UART.
    expect(Buffer.from(sent.shift()!.raw.subarray(2)).toString()).toBe('None');
    expect(sent[0]!.raw.length).toBe(2 + 2800);
    expect(sent.slice(1).map((s) => [s.topic.split('/').at(-1), s.text.split('\n').at(-2)])).toEqual([
      ['e2', 'OSError: [Errno 2] ENOENT'],
      ['e3', 'OSError: [Errno 2] ENOENT'],
      ['e4', 'OSError: [Errno 21] EISDIR'],
    ]);
    expect(logs).toContain('W mqrepl: Exception in get: [Errno 2] ENOENT');
  });
});
