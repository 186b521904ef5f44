// MicroPython snippets that give original MQBoard boards (eval, get, put and ota only) the file
// operations our runtime has natively, as the original CLI does (mqboard/dirops.py, misc.py).
//
// Differences from the original CLI, each for a reason from the wire facts:
// - results come back as the `repr()` of an expression, which the board does not truncate,
//   rather than as printed output, which it bounds at ~2.8 KB (large directories);
// - `os.ilistdir` entries may be 3-tuples (no size) on some ports;
// - hashes are SHA-256: `hashlib.sha1` is missing on builds without SSL.
// A board's eval must fit one message (it refuses multi-message evals), so each helper is
// defined by its own eval of well under 1400 bytes, with one-space indentation.
import type { FileEntry, ResetMode } from '../../../protocol/src';

/** A Python string literal for any path (JSON string syntax is valid Python 3 syntax). */
export const pyStr = (s: string): string => JSON.stringify(s);

const OS = `try:
 import uos as _mqb_os
except ImportError:
 import os as _mqb_os
`;

const LS = `${OS}def _mqb_ls(d, rec):
 r = []
 def walk(d, rel):
  b = d if d.endswith('/') else d + '/'
  if hasattr(_mqb_os, 'ilistdir'):
   it = _mqb_os.ilistdir(d)
  else:
   it = []
   for n in _mqb_os.listdir(d):
    st = _mqb_os.stat(b + n)
    it.append((n, st[0] & 0xF000, 0, st[6]))
  for f in it:
   isdir = (f[1] & 0x4000) != 0
   r.append((rel + f[0], 1 if isdir else 0, f[3] if len(f) > 3 and not isdir else None))
   if isdir and rec:
    walk(b + f[0], rel + f[0] + '/')
 walk(d, '')
 return r
`;

const SHA = `${OS}def _mqb_sha(p):
 try:
  import uhashlib as h
 except ImportError:
  import hashlib as h
 try:
  import ubinascii as a
 except ImportError:
  import binascii as a
 s = h.sha256()
 f = open(p, 'rb')
 try:
  while True:
   c = f.read(1024)
   if not c:
    break
   s.update(c)
 finally:
  f.close()
 return a.hexlify(s.digest()).decode()
def _mqb_shas(d):
 b = d if d.endswith('/') else d + '/'
 return [(e[0], _mqb_sha(b + e[0])) for e in _mqb_ls(d, False) if not e[1]]
`;

const FS = `${OS}def _mqb_stat(p):
 st = _mqb_os.stat(p)
 return (1 if (st[0] & 0x4000) != 0 else 0, st[6])
def _mqb_mkdir(p, parents):
 if not parents:
  _mqb_os.mkdir(p)
  return
 q = '/' if p.startswith('/') else ''
 for d in p.split('/'):
  if d:
   q += d
   try:
    _mqb_os.mkdir(q)
   except OSError:
    pass
   q += '/'
def _mqb_rm(p, rec):
 if _mqb_stat(p)[0]:
  if not rec:
   raise OSError(21)
  for e in _mqb_ls(p, False):
   _mqb_rm(p.rstrip('/') + '/' + e[0], True)
  _mqb_os.rmdir(p)
 else:
  _mqb_os.remove(p)
`;

/** What one synthesised operation sends: helper definitions (statements), then one expression. */
export interface Snippet {
  setup: string[];
  expr: string;
}

export const snippets = {
  ls: (path: string, recursive: boolean): Snippet => ({ setup: [LS], expr: `_mqb_ls(${pyStr(path)}, ${recursive ? 'True' : 'False'})` }),
  sha256: (path: string): Snippet => ({ setup: [LS, SHA], expr: `_mqb_sha(${pyStr(path)})` }),
  /** SHA-256 of every file directly in a directory, in one round trip (sync). */
  sha256Dir: (dir: string): Snippet => ({ setup: [LS, SHA], expr: `_mqb_shas(${pyStr(dir)})` }),
  stat: (path: string): Snippet => ({ setup: [LS, FS], expr: `_mqb_stat(${pyStr(path)})` }),
  mkdir: (path: string, parents: boolean): Snippet => ({ setup: [LS, FS], expr: `_mqb_mkdir(${pyStr(path)}, ${parents ? 'True' : 'False'})` }),
  rm: (path: string, recursive: boolean): Snippet => ({ setup: [LS, FS], expr: `_mqb_rm(${pyStr(path)}, ${recursive ? 'True' : 'False'})` }),
  rmdir: (path: string, recursive: boolean): Snippet =>
    recursive ? { setup: [LS, FS], expr: `_mqb_rm(${pyStr(path)}, True)` } : { setup: [OS], expr: `_mqb_os.rmdir(${pyStr(path)})` },
  mv: (from: string, to: string): Snippet => ({ setup: [OS], expr: `_mqb_os.rename(${pyStr(from)}, ${pyStr(to)})` }),
};

/**
 * Reset through the original watchdog module (`n` normal, `f` safe mode, `s` soft); `hard` is an
 * immediate machine.reset() that never replies. The log line tells whoever watches the board's
 * log why it went away.
 */
export function resetSnippet(mode: ResetMode): string {
  switch (mode) {
    case 'normal':
      return "log.critical('Resetting via mqboard into normal mode')\nsys.modules['watchdog'].reset('n')\n";
    case 'safe':
      return "log.critical('Resetting via mqboard into safe mode')\nsys.modules['watchdog'].reset('f')\n";
    case 'soft':
      return "log.critical('Soft-reset via mqboard')\nsys.modules['watchdog'].reset('s')\n";
    case 'hard':
      return 'import machine\nmachine.reset()\n';
  }
}

// ---- Reading results: the repr() of str, int, None, bool, lists and tuples. ----

export type PyValue = string | number | boolean | null | PyValue[];

/** Parses a Python literal as printed by repr(); throws on anything else. */
export function parsePyLiteral(src: string): PyValue {
  let i = 0;
  const ws = () => {
    while (i < src.length && /\s/.test(src[i]!)) i++;
  };
  const fail = (what: string): never => {
    throw new Error(`cannot read the board's reply (${what} at ${i}): ${src.slice(0, 120)}`);
  };
  const value = (): PyValue => {
    ws();
    const c = src[i];
    if (c === '[' || c === '(') {
      const close = c === '[' ? ']' : ')';
      i++;
      const items: PyValue[] = [];
      for (;;) {
        ws();
        if (src[i] === close) {
          i++;
          return items;
        }
        items.push(value());
        ws();
        if (src[i] === ',') i++;
        else if (src[i] !== close) fail(`expected , or ${close}`);
      }
    }
    if (c === "'" || c === '"') return str();
    if (src.startsWith('None', i)) return (i += 4), null;
    if (src.startsWith('True', i)) return (i += 4), true;
    if (src.startsWith('False', i)) return (i += 5), false;
    const m = /^-?\d+(\.\d+)?/.exec(src.slice(i, i + 32));
    if (m) {
      i += m[0].length;
      return Number(m[0]);
    }
    return fail('unexpected input');
  };
  const str = (): string => {
    const q = src[i++];
    let out = '';
    while (i < src.length && src[i] !== q) {
      const c = src[i++]!;
      if (c !== '\\') {
        out += c;
        continue;
      }
      const e = src[i++];
      const hex = (n: number) => {
        const h = src.slice(i, i + n);
        if (!/^[0-9a-fA-F]+$/.test(h) || h.length !== n) fail('bad escape');
        i += n;
        return String.fromCodePoint(parseInt(h, 16));
      };
      switch (e) {
        case 'n': out += '\n'; break;
        case 'r': out += '\r'; break;
        case 't': out += '\t'; break;
        case '\\': out += '\\'; break;
        case "'": out += "'"; break;
        case '"': out += '"'; break;
        case 'x': out += hex(2); break;
        case 'u': out += hex(4); break;
        case 'U': out += hex(8); break;
        default: fail('unknown escape');
      }
    }
    if (src[i] !== q) fail('unterminated string');
    i++;
    return out;
  };
  const v = value();
  ws();
  if (i !== src.length) fail('trailing input');
  return v;
}

/** `_mqb_ls` result → entries; sizes may be None (3-tuple ports). */
export function parseLsResult(src: string): FileEntry[] {
  const v = parsePyLiteral(src);
  if (!Array.isArray(v)) throw new Error(`unexpected ls reply: ${src.slice(0, 120)}`);
  return v.map((t) => {
    if (!Array.isArray(t) || typeof t[0] !== 'string' || typeof t[1] !== 'number') throw new Error(`unexpected ls entry: ${JSON.stringify(t)}`);
    const e: FileEntry = { name: t[0], type: t[1] ? 'dir' : 'file' };
    if (typeof t[2] === 'number' && t[2] >= 0) e.size = t[2];
    return e;
  });
}

export function parseShaResult(src: string): string {
  const v = parsePyLiteral(src);
  if (typeof v !== 'string' || !/^[0-9a-f]{64}$/.test(v)) throw new Error(`unexpected sha256 reply: ${src.slice(0, 120)}`);
  return v;
}

export function parseShaDirResult(src: string): Map<string, string> {
  const v = parsePyLiteral(src);
  if (!Array.isArray(v)) throw new Error(`unexpected sha256 listing: ${src.slice(0, 120)}`);
  const out = new Map<string, string>();
  for (const t of v) {
    if (Array.isArray(t) && typeof t[0] === 'string' && typeof t[1] === 'string') out.set(t[0], t[1]);
  }
  return out;
}

export function parseStatResult(path: string, src: string): FileEntry {
  const v = parsePyLiteral(src);
  if (!Array.isArray(v) || typeof v[0] !== 'number' || typeof v[1] !== 'number') throw new Error(`unexpected stat reply: ${src.slice(0, 120)}`);
  const name = path.replace(/\/+$/, '').split('/').pop() || path;
  return v[0] ? { name, type: 'dir' } : { name, type: 'file', size: v[1] };
}
