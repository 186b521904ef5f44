// The original `sync` spec format (mqboard/sync.py):
//
//   /lib: --no-update            # a target directory, with per-target options
//     src/lib: a.py b.py c*.py   # indented: an optional source dir with a colon, then files
//     config.py->board_config.py # `src->dst` renames a file (no wildcards with ->)
//
// `#` starts a comment. Options: --check-only (report, never put), --no-update (put missing
// files, never replace existing ones).
import { readdirSync } from 'node:fs';
import path from 'node:path';

export interface TargetOptions {
  checkOnly?: boolean;
  noUpdate?: boolean;
}

export interface SpecFile {
  /** Local path (may contain * or ? before expansion). */
  src: string;
  /** File name in the target directory. */
  dst: string;
}

export interface SpecTarget {
  dir: string;
  options: TargetOptions;
  files: SpecFile[];
}

export function parseSyncSpec(text: string): SpecTarget[] {
  const targets: SpecTarget[] = [];
  let current: SpecTarget | undefined;
  text.split(/\r?\n/).forEach((raw, idx) => {
    const lnum = idx + 1;
    const hash = raw.indexOf('#');
    const line = (hash >= 0 ? raw.slice(0, hash) : raw).trimEnd();
    if (line === '') return;
    if (/^\s/.test(line)) {
      if (!current) throw new Error(`line ${lnum}: no target directory set`);
      const tok = line.trim().split(/\s+/);
      let srcDir = '.';
      if (tok[0]!.endsWith(':')) srcDir = tok.shift()!.slice(0, -1).trimEnd();
      if (!srcDir.endsWith('/')) srcDir += '/';
      for (const t of tok) {
        const sep = t.indexOf('->');
        if (sep > 0) {
          const src = t.slice(0, sep);
          if (/[*?]/.test(src)) throw new Error(`line ${lnum}: cannot mix wildcards with '->' in ${src}`);
          current.files.push({ src: srcDir + src, dst: t.slice(sep + 2) });
        } else {
          current.files.push({ src: srcDir + t, dst: path.posix.basename(t) });
        }
      }
      return;
    }
    const tok = line.split(/\s+/);
    if (!tok[0]!.endsWith(':')) throw new Error(`line ${lnum}: expected target directory followed by colon`);
    const dir = tok.shift()!.slice(0, -1).trimEnd();
    const options: TargetOptions = {};
    for (const t of tok) {
      if (t === '--check-only') options.checkOnly = true;
      else if (t === '--no-update') options.noUpdate = true;
      else throw new Error(`line ${lnum}: unknown option ${t}`);
    }
    current = targets.find((x) => x.dir === dir);
    if (current) current.options = { ...current.options, ...options };
    else targets.push((current = { dir, options, files: [] }));
  });
  return targets;
}

/** Expands `*` and `?` in the file-name part of a source path (relative to `base`). */
export function expandGlob(src: string, base: string): string[] {
  if (!/[*?]/.test(src)) return [src];
  const dir = path.posix.dirname(src);
  if (/[*?]/.test(dir)) throw new Error(`wildcards are only supported in file names: ${src}`);
  const re = new RegExp(
    '^' +
      path.posix
        .basename(src)
        .replace(/[.+^${}()|[\]\\]/g, '\\$&')
        .replace(/\*/g, '.*')
        .replace(/\?/g, '.') +
      '$',
  );
  let names: string[];
  try {
    names = readdirSync(path.resolve(base, dir));
  } catch {
    return [];
  }
  return names.filter((n) => re.test(n)).sort().map((n) => path.posix.join(dir, n));
}

export type SyncAction =
  | { kind: 'mkdir'; dir: string }
  | { kind: 'ok'; src: string; dst: string }
  | { kind: 'put'; src: string; dst: string; why: 'missing' | 'shadiff' }
  | { kind: 'skip'; src: string; dst: string; why: 'missing' | 'shadiff' };

/**
 * Decides what to do for one target given the board's hashes (undefined when the directory is
 * missing) and a local hash function.
 */
/** A directory the device does not have yet (it is created), told apart from every other failure. */
export const isMissingDir = (e: unknown): boolean =>
  e instanceof Error && e.name === 'EngineError' && (e as { code?: string }).code === 'device-error' && /ENOENT|No such file|Errno 2\b/i.test(e.message);

export function planTarget(
  t: SpecTarget,
  remote: Record<string, string> | undefined,
  localSha: (src: string) => string,
  base: string,
): SyncAction[] {
  const actions: SyncAction[] = [];
  if (!remote) actions.push({ kind: 'mkdir', dir: t.dir });
  const files: SpecFile[] = t.files.flatMap((f) =>
    /[*?]/.test(f.src) ? expandGlob(f.src, base).map((src) => ({ src, dst: path.posix.basename(src) })) : [f],
  );
  for (const f of files) {
    const dst = (t.dir.endsWith('/') ? t.dir : `${t.dir}/`) + f.dst;
    let why: 'missing' | 'shadiff' = 'missing';
    const have = remote?.[f.dst];
    if (have !== undefined) {
      if (have === localSha(f.src)) {
        actions.push({ kind: 'ok', src: f.src, dst });
        continue;
      }
      why = 'shadiff';
    }
    if (t.options.checkOnly || (t.options.noUpdate && why === 'shadiff')) actions.push({ kind: 'skip', src: f.src, dst, why });
    else actions.push({ kind: 'put', src: f.src, dst, why });
  }
  return actions;
}
