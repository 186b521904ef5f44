// Every decoder of wire input in protocol/, as a fuzz target: how to run it on bytes, whether
// its result is typed (a `Decoded` value or error, or the documented `undefined`), how large an
// input is worth trying (a little past its cap), valid samples to mutate, and valid inputs at
// the cap built to cost the most, which random ones almost never are.
import { text, utf8 } from '../bytes';
import { type CrashRecord, decodeCrashList, encodeCrashList } from '../crash';
import { decodeFileOptions, decodeFileReply, decodeResetOptions } from '../files';
import { decodeFrame, encodeFrame } from '../framing';
import {
  type JsonLimit,
  LS_REPLY_JSON,
  MAX_CRASH_LIST_BYTES,
  MAX_FILE_REPLY_BYTES,
  MAX_LOG_LINE_BYTES,
  MAX_LS_REPLY_BYTES,
  MAX_OPTIONS_BYTES,
  MAX_STATUS_BYTES,
  MAX_TERM_EVENT_BYTES,
} from '../limits';
import { compileLogFilter } from '../log-filter';
import { decodeLogLine } from '../log-line';
import type { Decoded } from '../result';
import { decodeStatus } from '../status';
import { decodeTermControl, decodeTermEvent, parseTermTopic } from '../terminal';
import { parseCommandTopic, parseReplyTopic, prefixOfTopic } from '../topics';
import { decodeAck, decodeGetOptions, decodePutTail } from '../transfer';

export interface Extreme {
  name: string;
  bytes: Uint8Array;
}

export interface FuzzTarget {
  name: string;
  /** The decoder's own cap; inputs go up to twice this, so refusals are exercised too. */
  cap: number;
  samples: Uint8Array[];
  /** Valid inputs within the cap that cost the most: the most values, the most text that is not ASCII. */
  extremes?: Extreme[];
  /** The decoder itself, for targets that return a `Decoded`: extremes must decode to a value. */
  decode?: (input: Uint8Array) => Decoded<unknown>;
  /** Runs the decoder; returns why the result is not typed, or undefined when it is. */
  run(input: Uint8Array): string | undefined;
}

function checkDecoded(d: Decoded<unknown>): string | undefined {
  if (d.ok === true) return d.value === undefined ? 'ok without a value' : undefined;
  if (d.ok === false) return typeof d.error === 'string' && d.error.length > 0 ? undefined : 'error without a message';
  return 'neither ok nor an error';
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null;
const optionalObject = (v: unknown): string | undefined => (v === undefined || isObject(v) ? undefined : 'neither undefined nor an object');

const decoded = (
  name: string,
  cap: number,
  decode: (b: Uint8Array) => Decoded<unknown>,
  samples: string[],
  extremes?: Extreme[],
): FuzzTarget => ({
  name,
  cap,
  samples: samples.map(utf8),
  ...(extremes ? { extremes } : {}),
  decode,
  run: (b) => checkDecoded(decode(b)),
});

/**
 * A listing of as many `entry(i)` (JSON text) as `limit` allows in bytes and in values as
 * checkJsonShape counts them: an entry's object, the commas between its fields, one after it.
 */
function listingAtCap(limit: JsonLimit, entry: (i: number) => string): Uint8Array {
  const head = '{"path":"/","entries":[';
  const entries: string[] = [];
  let bytes = head.length + 2;
  let values = 3;
  for (let i = 0; ; i++) {
    const e = entry(i);
    const b = utf8(e).length + 1;
    const v = (e.match(/[{[,]/g)?.length ?? 0) + 1;
    if (bytes + b > limit.bytes || values + v > limit.values) break;
    bytes += b;
    values += v;
    entries.push(e);
  }
  return utf8(`${head}${entries.join(',')}]}`);
}

/** As long as a device path may be (4,096 UTF-16 code units): repeats of `unit`, JSON text that decodes to `units` code units, then `i`. */
const longName = (unit: string, units: number, i: number): string => unit.repeat(Math.floor((4096 - 8) / units)) + i;

const LS_EXTREMES: Extreme[] = [
  { name: 'bare entries', bytes: listingAtCap(LS_REPLY_JSON, (i) => `{"name":"${i}","type":"dir"}`) },
  { name: 'typical entries', bytes: listingAtCap(LS_REPLY_JSON, (i) => JSON.stringify({ name: `lib/module_${i}.py`.padEnd(25, '_'), type: 'file', size: i, mtime: 1763769600000 + i })) },
  { name: 'emoji names', bytes: listingAtCap(LS_REPLY_JSON, (i) => JSON.stringify({ name: longName('😀', 2, i), type: 'file' })) },
  { name: 'CJK names', bytes: listingAtCap(LS_REPLY_JSON, (i) => JSON.stringify({ name: longName('中', 1, i), type: 'file' })) },
  { name: 'escaped names', bytes: listingAtCap(LS_REPLY_JSON, (i) => `{"name":"${longName('\\u4e2d', 1, i)}","type":"file"}`) },
];

const shaReply = (path: string) => utf8(`{"path":"${path}","sha256":"${'e3b0c442'.repeat(8)}","size":0}`);
const SHA_EXTREMES: Extreme[] = [
  { name: 'CJK path', bytes: shaReply(longName('中', 1, 0)) },
  { name: 'escaped path', bytes: shaReply(longName('\\u0001', 1, 0)) },
];

const crashRecord = (i: number, line: string, lines: number): CrashRecord => ({
  id: `c${i}`, time: 1763769600000 + i, bootCount: i, mode: 'normal', reason: 'exception', message: 'boom', log: Array.from({ length: lines }, () => line),
});
const CRASH_EXTREMES: Extreme[] = [
  { name: 'CJK log lines', bytes: encodeCrashList(Array.from({ length: 10 }, (_, i) => crashRecord(i, '中'.repeat(2000), 500))) },
  { name: 'one-character log lines', bytes: encodeCrashList(Array.from({ length: 40 }, (_, i) => crashRecord(i, 'x', 500))) },
];

/** Topics from the broker are at most 65,535 bytes (MQTT). */
const TOPIC_CAP = 65_535;

const status = JSON.stringify({
  online: true, protocol: 1, runtime: { kind: 'mqboard-node', version: '0.1.0' }, firmware: '1.2.0',
  mode: 'normal', bootReason: 'cold', bootCount: 1, uptime: 12.5, freeMem: 101424, time: 1763769600000,
  capabilities: { maxChunk: 65536, maxImage: 8388608, commands: ['eval', 'get', 'put', 'ota', 'ls'], putAck: true, putShaLast: true, getAck: true, terminal: true },
  ota: { active: 'a', confirmed: true, slots: [{ name: 'a', version: '1.2.0' }, { name: 'b', version: null }] },
  crashes: 1,
});

const crashes = text(
  encodeCrashList([
    { id: 'c1', time: 1763769600000, bootCount: 3, mode: 'normal', reason: 'exception', message: 'boom', stack: 'Error: boom\n    at start (/lib/app.js:3:9)', log: ['E 12:00:00.000     main: boom', 'I 1394     wifi: up'] },
  ]),
);

/** Lines a search runs over: the worst a decoded line can be (1 KiB), and ordinary ones. */
const SEARCH_LINES = [' '.repeat(MAX_LOG_LINE_BYTES), 'a'.repeat(MAX_LOG_LINE_BYTES), 'x: '.repeat(340), 'temp=21.5 humidity=40 battery=3.71V', 'é😀'.repeat(100)];

export const FUZZ_TARGETS: FuzzTarget[] = [
  decoded('log line', MAX_LOG_LINE_BYTES, decodeLogLine, ['W 1394     main: MicroPython 1.12.0', 'E 12:01:02.345 watchdog: feed failed', 'D 5        x:', 'I 7080 mqtt_async: Connecting to x: y\r\n']),
  decoded('status', MAX_STATUS_BYTES, decodeStatus, [status, '{"online":false,"reason":"lost"}']),
  decoded('crash list', MAX_CRASH_LIST_BYTES, decodeCrashList, [crashes, '{"crashes":[]}'], CRASH_EXTREMES),
  decoded('ls reply', MAX_LS_REPLY_BYTES, (b) => decodeFileReply('ls', b), ['{"path":"/lib","entries":[{"name":"foo.py","type":"file","size":12,"mtime":1763769600000},{"name":"sub","type":"dir"}]}'], LS_EXTREMES),
  decoded('sha reply', MAX_FILE_REPLY_BYTES, (b) => decodeFileReply('sha', b), [`{"path":"/a","sha256":"${'e3b0c442'.repeat(8)}","size":0}`], SHA_EXTREMES),
  decoded('mv options', MAX_OPTIONS_BYTES, (b) => decodeFileOptions('mv', b), ['{"to":"/b.txt","overwrite":false}', '']),
  decoded('reset options', MAX_OPTIONS_BYTES, decodeResetOptions, ['{"mode":"safe"}', '']),
  decoded('get options', MAX_OPTIONS_BYTES, decodeGetOptions, ['{"window":48,"chunk":65536}', '']),
  decoded('terminal control', MAX_OPTIONS_BYTES, decodeTermControl, ['{"op":"open","cols":80,"rows":24,"window":262144}', '{"op":"ack","bytes":4096}']),
  decoded('terminal event', MAX_TERM_EVENT_BYTES, decodeTermEvent, ['{"op":"opened","window":262144}', '{"op":"error","message":"boom"}']),
  { name: 'frame', cap: 64 * 1024, samples: [encodeFrame(3, true, utf8('OK'))], run: (b) => checkDecoded(decodeFrame(b)) },
  {
    name: 'ack',
    cap: 64,
    samples: [utf8('SEQ 0'), utf8('SEQ 32767')],
    run: (b) => {
      const n = decodeAck(b);
      return n === undefined || (Number.isInteger(n) && n >= 0) ? undefined : `not a sequence number: ${n}`;
    },
  },
  {
    name: 'put tail',
    cap: TOPIC_CAP,
    samples: [utf8(`/lib/foo.py?sha256=${'ab'.repeat(32)}&size=12`), utf8('/a?b')],
    run: (b) => (typeof decodePutTail(text(b)).path === 'string' ? undefined : 'no path'),
  },
  {
    name: 'topics',
    cap: TOPIC_CAP,
    samples: [utf8('esp32/test/mqb/reply/out/Ab3x_9Qz'), utf8('esp32/test/mqb/cmd/put/Ab3x_9Qz//lib/foo.py'), utf8('esp32/test/mqb/term/s1/evt'), utf8('esp32/test/log')],
    run: (b) => {
      const t = text(b);
      const p = prefixOfTopic(t);
      return (
        optionalObject(parseReplyTopic(t)) ??
        optionalObject(parseCommandTopic('esp32/test', t)) ??
        optionalObject(parseTermTopic('esp32/test', t)) ??
        (p === undefined || typeof p === 'string' ? undefined : 'prefix not a string')
      );
    },
  },
  {
    // Not a wire decoder, but the one place a user's regular expression runs: over every
    // stored line, on the host's main thread. Inputs are patterns (the filter allows 512 chars).
    name: 'log search',
    cap: 512,
    samples: ['temp=\\d+', '^E .*wifi', '(a|b)*c', '.*.*.*.*.*.*.*.*.*.*x', '\\bfeed\\b', '[[:alpha:]]+', '(?i)boom'].map(utf8),
    run: (b) => {
      const m = compileLogFilter({ search: text(b).slice(0, 512), regex: true });
      if (m.error !== undefined) return typeof m.error === 'string' ? undefined : 'error not a string';
      for (const line of SEARCH_LINES) {
        if (typeof m.test('I', 'main', line) !== 'boolean') return 'test not a boolean';
        if (!Array.isArray(m.highlights(line))) return 'highlights not an array';
      }
      return undefined;
    },
  },
];
