// Stacks the device shows its user (eval and REPL errors, crash records) keep the user's frames
// only: code typed at the REPL or sent to eval, and the application's modules, named by their
// device paths. Frames of the runtime itself, of Node's internals and of anything else on the
// host say nothing to the user and would publish the host's file layout.
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const FRAME = /^\s+at /;

/** The frame's location: inside the last parentheses, or everything after `at `. */
function locationOf(line: string): { loc: string; start: number } {
  const trimmed = line.replace(/\s+$/, '');
  if (trimmed.endsWith(')')) {
    const open = trimmed.lastIndexOf('(');
    if (open >= 0) return { loc: trimmed.slice(open + 1, -1), start: open + 1 };
  }
  const at = trimmed.indexOf('at ') + 3;
  return { loc: trimmed.slice(at), start: at };
}

/** `/abs/file.mjs?boot=2:3:9` → file path and `:3:9`. */
function splitPosition(loc: string): { file: string; pos: string } {
  const m = /^(.*?)((?::\d+){1,2})$/.exec(loc);
  return m ? { file: m[1]!, pos: m[2]! } : { file: loc, pos: '' };
}

function hostPathOf(file: string): string | undefined {
  if (file.startsWith('file://')) {
    try {
      return fileURLToPath(file.replace(/[?#].*$/, ''));
    } catch {
      return undefined;
    }
  }
  if (path.isAbsolute(file) || /^[A-Za-z]:[\\/]/.test(file)) return file.replace(/[?#].*$/, '');
  return undefined;
}

/**
 * Keeps the message lines and the user's frames of a V8 stack. A frame in a file below `root`
 * (the device's filesystem: /lib, /src, the OTA slots) is kept with its device path; a frame in
 * any other host file, or in `node:` internals, is dropped. Frames without a file path (`eval`,
 * `repl`, `<anonymous>`) are the user's.
 */
export function userStack(stack: string, root?: string): string {
  const out: string[] = [];
  for (const line of stack.split('\n')) {
    if (!FRAME.test(line)) {
      out.push(line);
      continue;
    }
    const { loc, start } = locationOf(line);
    const { file, pos } = splitPosition(loc);
    if (file.startsWith('node:')) continue;
    const host = hostPathOf(file);
    if (host === undefined) {
      out.push(line);
      continue;
    }
    if (root === undefined) continue;
    const rel = path.relative(root, host);
    if (rel === '' || rel.startsWith('..') || path.isAbsolute(rel)) continue;
    const device = '/' + rel.split(path.sep).join('/');
    out.push(line.slice(0, start) + device + pos + line.slice(start + loc.length));
  }
  return out.join('\n');
}

/** Rewrites `e.stack` in place (see userStack); values that are not errors are left alone. */
export function withUserStack<T>(e: T, root?: string): T {
  if (typeof e !== 'object' || e === null) return e;
  try {
    const stack = (e as { stack?: unknown }).stack;
    if (typeof stack === 'string') (e as unknown as { stack: string }).stack = userStack(stack, root);
  } catch {
    // A frozen error or a throwing getter: shown as it is.
  }
  return e;
}
