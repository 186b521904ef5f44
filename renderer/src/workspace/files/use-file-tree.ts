// The device filesystem as the tree shows it: one listing per expanded folder, loaded lazily
// (fsList: native `ls` on our runtime, MicroPython snippets on original boards), reloaded after
// every change the user makes and after uploads into a listed folder finish.
import { useCallback, useEffect, useRef, useState } from 'react';
import type { FileEntry } from '../../../../protocol/src';
import type { BridgeClient } from '../../bridge/client';

export interface DirState {
  entries?: FileEntry[];
  loading: boolean;
  error?: string;
}

export interface FileTree {
  dirs: ReadonlyMap<string, DirState>;
  expanded: ReadonlySet<string>;
  toggle(path: string): void;
  expand(path: string): void;
  reload(path: string): Promise<void>;
  reloadAll(): void;
  /** Drops what is known about a deleted or renamed folder and everything under it. */
  forget(path: string): void;
}

const sortEntries = (a: FileEntry, b: FileEntry) => (a.type === 'dir') !== (b.type === 'dir') ? (a.type === 'dir' ? -1 : 1) : a.name.localeCompare(b.name);

export function useFileTree(bridge: BridgeClient, prefix: string, enabled: boolean): FileTree {
  const [dirs, setDirs] = useState<ReadonlyMap<string, DirState>>(() => new Map());
  const [expanded, setExpanded] = useState<ReadonlySet<string>>(() => new Set(['/']));
  const latest = useRef(new Map<string, number>());

  const reload = useCallback(
    async (path: string) => {
      // Only the newest listing of a folder lands, whatever order the replies come in.
      const n = (latest.current.get(path) ?? 0) + 1;
      latest.current.set(path, n);
      setDirs((m) => new Map(m).set(path, { ...m.get(path), loading: true }));
      try {
        const r = await bridge.call('fsList', { prefix, path });
        if (latest.current.get(path) !== n) return;
        setDirs((m) => new Map(m).set(path, { entries: [...r.entries].sort(sortEntries), loading: false }));
      } catch (e) {
        if (latest.current.get(path) !== n) return;
        setDirs((m) => new Map(m).set(path, { ...m.get(path), loading: false, error: e instanceof Error ? e.message : String(e) }));
      }
    },
    [bridge, prefix],
  );

  useEffect(() => {
    if (enabled && !dirs.has('/')) void reload('/');
  }, [enabled, dirs, reload]);

  const expand = useCallback(
    (path: string) => {
      setExpanded((s) => (s.has(path) ? s : new Set(s).add(path)));
      if (!dirs.get(path)?.entries) void reload(path);
    },
    [dirs, reload],
  );
  const toggle = useCallback(
    (path: string) => {
      if (expanded.has(path)) {
        setExpanded((s) => {
          const n = new Set(s);
          n.delete(path);
          return n;
        });
      } else expand(path);
    },
    [expanded, expand],
  );
  const reloadAll = useCallback(() => {
    for (const p of expanded) void reload(p);
  }, [expanded, reload]);

  const forget = useCallback((path: string) => {
    const gone = (p: string) => p === path || p.startsWith(`${path}/`);
    setDirs((m) => new Map([...m].filter(([p]) => !gone(p))));
    setExpanded((s) => new Set([...s].filter((p) => !gone(p))));
  }, []);

  return { dirs, expanded, toggle, expand, reload, reloadAll, forget };
}
