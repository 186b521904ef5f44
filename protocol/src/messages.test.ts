// Round-trip fixtures for every JSON message kind: decode(fixture bytes) validates, and
// encode(decoded) gives the fixture bytes back (fixtures are in canonical key order).
import { describe, expect, it } from 'vitest';
import type { z } from 'zod';
import { bytesEqual, utf8 } from './bytes';
import { decodeJson, encodeJson } from './json';
import { SlotInfo, Status } from './status';
import { DoneReply, LsReply, MvOptions, ResetOptions, ShaReply, StatReply } from './files';
import { TermControl, TermEvent } from './terminal';
import { CrashRecord } from './crash';

const sha = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';

const fixtures: Array<{ kind: string; schema: z.ZodType<unknown>; json: string }> = [
  {
    kind: 'status (online)',
    schema: Status,
    json: JSON.stringify({
      online: true, protocol: 1, runtime: { kind: 'mqboard-node', version: '0.1.0' }, firmware: '1.2.0',
      mode: 'safe', bootReason: 'watchdog', bootCount: 4, uptime: 12.5, freeMem: 101424, time: 1700000000000,
      capabilities: { maxChunk: 65536, maxImage: 8388608, commands: ['eval', 'get', 'put', 'ota', 'ls'], putAck: true, putShaLast: true, getAck: true, terminal: false },
      ota: { active: 'a', confirmed: false, slots: [{ name: 'a', version: '1.2.0' }, { name: 'b', version: null }] },
      crashes: 1,
    }),
  },
  { kind: 'status (Last Will)', schema: Status, json: '{"online":false,"reason":"lost"}' },
  { kind: 'status (clean shutdown)', schema: Status, json: '{"online":false,"reason":"shutdown","time":1700000000000}' },
  { kind: 'status (asleep)', schema: Status, json: '{"online":false,"reason":"sleep","time":1700000000000,"wake":1700000040000}' },
  {
    kind: 'ls reply',
    schema: LsReply,
    json: JSON.stringify({ path: '/lib', entries: [{ name: 'foo.py', type: 'file', size: 12, mtime: 1700000000000 }, { name: 'sub', type: 'dir' }] }),
  },
  { kind: 'stat reply', schema: StatReply, json: JSON.stringify({ name: 'foo.py', type: 'file', size: 3, path: '/foo.py' }) },
  { kind: 'sha reply', schema: ShaReply, json: JSON.stringify({ path: '/empty', sha256: sha, size: 0 }) },
  { kind: 'done reply', schema: DoneReply, json: '{"ok":true,"path":"/x"}' },
  { kind: 'mv options', schema: MvOptions, json: '{"to":"/b.txt","overwrite":true}' },
  { kind: 'reset options', schema: ResetOptions, json: '{"mode":"safe"}' },
  { kind: 'terminal open', schema: TermControl, json: '{"op":"open","cols":80,"rows":24,"window":262144}' },
  { kind: 'terminal ack', schema: TermControl, json: '{"op":"ack","bytes":4096}' },
  { kind: 'terminal interrupt', schema: TermControl, json: '{"op":"interrupt"}' },
  { kind: 'terminal closed', schema: TermEvent, json: '{"op":"closed","reason":"exit"}' },
  {
    kind: 'crash record',
    schema: CrashRecord,
    json: JSON.stringify({
      id: 'c1', time: 1700000000000, bootCount: 3, mode: 'normal', reason: 'exception', message: 'boom',
      stack: 'Error: boom\n    at start', log: ['E 12:00:00.000     main: boom'],
    }),
  },
];

describe('JSON messages round-trip byte-equal', () => {
  for (const f of fixtures) {
    it(f.kind, () => {
      const d = decodeJson(f.schema, utf8(f.json), f.kind);
      if (!d.ok) throw new Error(d.error);
      expect(bytesEqual(encodeJson(d.value), utf8(f.json))).toBe(true);
    });
  }
});

describe('JSON decoders report what is wrong, with the path', () => {
  it('names the field', () => {
    const d = decodeJson(Status, utf8('{"online":true,"protocol":1}'), 'status');
    expect(d.ok).toBe(false);
    if (!d.ok) expect(d.error).toMatch(/^invalid status: .*runtime/);
  });

  it('rejects non-JSON and non-UTF-8 without throwing', () => {
    expect(decodeJson(Status, utf8('{online'), 'status')).toMatchObject({ ok: false, error: expect.stringContaining('not JSON') });
    // Inside a string, where JSON allows text that is not ASCII, the bytes must still be UTF-8.
    const badUtf8 = new Uint8Array([...utf8('{"firmware":"'), 0xff, 0xfe, ...utf8('"}')]);
    expect(decodeJson(Status, badUtf8, 'status')).toEqual({ ok: false, error: 'invalid status: not UTF-8' });
  });

  it('refuses, before decoding any text, bytes that no JSON can be', () => {
    expect(decodeJson(Status, new Uint8Array([0xff, 0xfe]), 'status')).toEqual({ ok: false, error: 'invalid status: not JSON (unexpected byte 0)' });
    expect(decodeJson(Status, utf8('W 1394 main: 😀😀'), 'status')).toEqual({ ok: false, error: 'invalid status: not JSON (unexpected byte 13)' });
    expect(decodeJson(Status, utf8('{"firmware":"😀'), 'status')).toEqual({ ok: false, error: 'invalid status: not JSON (a string is never closed)' });
    expect(decodeJson(Status, utf8('{"a":[1}'), 'status')).toEqual({ ok: false, error: 'invalid status: not JSON (a bracket is never closed)' });
    expect(decodeJson(Status, utf8('{"a":1}}'), 'status')).toEqual({ ok: false, error: 'invalid status: not JSON (unexpected byte 7)' });
    // An escaped quote does not close a string, and an escaped backslash does not escape the quote.
    expect(decodeJson(Status, utf8('{"firmware":"a\\\\"é"}'), 'status')).toEqual({ ok: false, error: 'invalid status: not JSON (unexpected byte 17)' });
    expect(decodeJson(SlotInfo, utf8('{"name":"a\\"é","version":null}'), 'slot')).toEqual({ ok: true, value: { name: 'a"é', version: null } });
  });

  it('rejects unknown options on file commands (strict)', () => {
    expect(decodeJson(MvOptions, utf8('{"to":"/x","force":1}'), 'mv options').ok).toBe(false);
  });

  it('rejects a sha reply whose digest is not 64 hex characters', () => {
    expect(decodeJson(ShaReply, utf8('{"path":"/a","sha256":"XYZ","size":1}'), 'sha').ok).toBe(false);
  });
});
