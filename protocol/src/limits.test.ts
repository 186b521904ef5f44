// The size caps (limits.ts, docs/protocol.md "Limits"): each decoder refuses what is over its
// cap before it parses, with an error that names the size and the limit.
import { describe, expect, it } from 'vitest';
import { utf8 } from './bytes';
import { CrashList, decodeCrashList, encodeCrashList, type CrashRecord } from './crash';
import { decodeFileOptions, decodeFileReply } from './files';
import { checkJsonShape, decodeJson } from './json';
import { CRASH_LIST_JSON, MAX_CRASH_LIST_BYTES, MAX_FILE_REPLY_BYTES, MAX_LS_REPLY_BYTES, MAX_PAYLOAD_BYTES, MAX_STATUS_BYTES, STATUS_JSON } from './limits';
import { decodeStatus, Status } from './status';
import { decodeTermControl, decodeTermEvent } from './terminal';
import { decodeGetOptions } from './transfer';

const record = (i: number, logLines: number, lineBytes = 80): CrashRecord => ({
  id: `c${i}`, time: 1763769600000 + i, bootCount: i, mode: 'normal', reason: 'exception', message: `boom ${i}`,
  stack: 'Error: boom\n    at start (/lib/app.js:3:9)', log: Array.from({ length: logLines }, (_, k) => `E ${k} main: ${'x'.repeat(lineBytes)}`),
});

const offline = '{"online":false,"reason":"lost"}';
/** Valid JSON stretched with whitespace: only a size cap can refuse it. */
const padded = (json: string, bytes: number) => utf8(json.slice(0, -1) + ' '.repeat(bytes - json.length) + json.slice(-1));

describe('size caps', () => {
  it('a status over 16 KiB is refused before parsing, even when it is valid', () => {
    expect(decodeStatus(padded(offline, MAX_STATUS_BYTES)).ok).toBe(true);
    expect(decodeStatus(padded(offline, MAX_STATUS_BYTES + 1))).toEqual({ ok: false, error: 'invalid status: payload too large: 16 KiB, the limit is 16 KiB' });
    // Callers that still decode with the generic decoder get the same answer with the limit named.
    expect(decodeJson(Status, padded(offline, MAX_STATUS_BYTES + 1), 'status', STATUS_JSON).ok).toBe(false);
  });

  it('a crash list over 256 KiB is refused before parsing, even when the schema would take it', () => {
    const big = utf8(JSON.stringify({ crashes: Array.from({ length: 10 }, (_, i) => record(i, 500, 300)) }));
    expect(big.length).toBeGreaterThan(MAX_CRASH_LIST_BYTES);
    expect(CrashList.safeParse(JSON.parse(new TextDecoder().decode(big))).success).toBe(true);
    const d = decodeCrashList(big);
    expect(d.ok).toBe(false);
    if (!d.ok) expect(d.error).toMatch(/^invalid crash records: payload too large: 1\.\d MiB, the limit is 256 KiB$/);
    // The generic decoder, which the engine used, caps too.
    expect(decodeJson(CrashList, big, 'crash records').ok).toBe(false);
  });

  it('deep nesting and floods of tiny values are refused by a linear scan before JSON.parse', () => {
    expect(decodeCrashList(utf8(`{"crashes":${'['.repeat(100_000)}`))).toEqual({ ok: false, error: 'invalid crash records: nested deeper than 16 levels' });
    expect(decodeCrashList(utf8(`{"crashes":[${'{},'.repeat(10_000)}{}]}`))).toEqual({ ok: false, error: 'invalid crash records: more than 8192 values' });
    // Brackets and commas inside strings, escaped quotes included, are text, not structure.
    expect(checkJsonShape(utf8(`{"a":"\\"${'[,'.repeat(1000)}"}`), 10)).toBeUndefined();
    expect(checkJsonShape(utf8('[[1,2],[3]]'), 5)).toBeUndefined();
    expect(checkJsonShape(utf8('[[1,2],[3]]'), 4)).toBe('more than 4 values');
  });

  it('an ls reply holds ~3,000 typical recursive entries (85 bytes each); past 256 KiB it is refused unparsed', () => {
    const entry = (i: number) => ({ name: `lib/module_${i}.py`.padEnd(25, '_'), type: 'file' as const, size: i, mtime: 1763769600000 + i });
    const listing = (n: number) => utf8(JSON.stringify({ path: '/', entries: Array.from({ length: n }, (_, i) => entry(i)) }));
    const d = decodeFileReply('ls', listing(3000));
    expect(d.ok && d.value.entries.length).toBe(3000);
    const over = listing(3200);
    expect(over.length).toBeGreaterThan(MAX_LS_REPLY_BYTES);
    expect(decodeFileReply('ls', over)).toEqual({ ok: false, error: 'invalid ls reply: payload too large: 264.6 KiB, the limit is 256 KiB' });
    // Entries of a bare name and type are the costliest per byte: their count stops first.
    const bare = utf8(JSON.stringify({ path: '/', entries: Array.from({ length: 7000 }, (_, i) => ({ name: `${i}`, type: 'dir' })) }));
    expect(bare.length).toBeLessThan(MAX_LS_REPLY_BYTES);
    expect(decodeFileReply('ls', bare)).toEqual({ ok: false, error: 'invalid ls reply: more than 16000 values' });
  });

  it("other file commands' replies, a path and a name of at most 4,096 characters, stop at 64 KiB", () => {
    const path = '\\u0001'.repeat(4096);
    const stat = utf8(`{"path":"${path}","name":"${path}","type":"file","size":1,"mtime":1763769600000}`);
    expect(stat.length).toBeLessThan(MAX_FILE_REPLY_BYTES);
    expect(decodeFileReply('stat', stat).ok).toBe(true);
    expect(decodeFileReply('rm', utf8(JSON.stringify({ ok: true, path: `/${'a'.repeat(4096)}` })))).toEqual({
      ok: false,
      error: 'invalid rm reply: path: Too big: expected string to have <=4096 characters',
    });
    expect(decodeFileReply('sha', padded('{"path":"/a"}', MAX_FILE_REPLY_BYTES + 1))).toEqual({ ok: false, error: 'invalid sha reply: payload too large: 64 KiB, the limit is 64 KiB' });
  });

  it('options and terminal messages have small caps of their own', () => {
    expect(decodeGetOptions(padded('{"window":16}', 4097))).toEqual({ ok: false, error: 'get options too large: 4 KiB, the limit is 4 KiB' });
    expect(decodeGetOptions(padded('{"window":16}', 4096))).toEqual({ ok: true, value: { window: 16 } });
    expect(decodeFileOptions('mv', padded('{"to":"/b"}', 4097)).ok).toBe(false);
    expect(decodeFileOptions('ls', new Uint8Array(0))).toEqual({ ok: true, value: {} });
    expect(decodeTermControl(padded('{"op":"interrupt"}', 4097)).ok).toBe(false);
    expect(decodeTermControl(utf8('{"op":"interrupt"}'))).toEqual({ ok: true, value: { op: 'interrupt' } });
    expect(decodeTermEvent(padded('{"op":"closed","reason":"exit"}', 8193)).ok).toBe(false);
    expect(decodeFileReply('rm', utf8('{"ok":true,"path":"/x"}'))).toEqual({ ok: true, value: { ok: true, path: '/x' } });
  });

  it('the largest payload any message may carry covers a frame of the largest chunk', () => {
    expect(MAX_PAYLOAD_BYTES).toBe(2 + 16 * 1024 * 1024);
  });
});

describe('encodeCrashList', () => {
  it('keeps every record when they fit', () => {
    const records = [record(1, 3), record(2, 3)];
    expect(decodeCrashList(encodeCrashList(records))).toEqual({ ok: true, value: { crashes: records } });
  });

  it('keeps the newest records that fit the cap, trimming the oldest log lines first', () => {
    const records = Array.from({ length: 10 }, (_, i) => record(i, 500, 300));
    const bytes = encodeCrashList(records);
    expect(bytes.length).toBeLessThanOrEqual(MAX_CRASH_LIST_BYTES);
    const d = decodeCrashList(bytes);
    if (!d.ok) throw new Error(d.error);
    const kept = d.value.crashes;
    expect(kept.at(-1)!.id).toBe('c9');
    expect(kept.at(-1)!.log.at(-1)).toBe(records[9]!.log.at(-1));
    expect(kept.map((r) => r.id)).toEqual(records.slice(-kept.length).map((r) => r.id));
  });

  it('stays within the value budget too', () => {
    const records = Array.from({ length: 40 }, (_, i) => record(i, 500, 1));
    const d = decodeCrashList(encodeCrashList(records));
    if (!d.ok) throw new Error(d.error);
    expect(d.value.crashes.length).toBeGreaterThan(0);
    expect(checkJsonShape(encodeCrashList(records), CRASH_LIST_JSON.values)).toBeUndefined();
  });
});
