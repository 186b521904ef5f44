// The device's folders and files as an indented tree with sizes and modification times. Files
// and folders dropped from the OS land in the folder under the pointer (a file row means its
// folder; empty space means the root). Row actions: open, download, rename, delete.
import { useState, type DragEvent } from 'react';
import type { FileEntry } from '../../../../protocol/src';
import { bytes, clock } from '../../ui/format';
import { Icon } from '../../ui/icons';
import { FIcon } from './file-icons';
import { join, parentOf } from './paths';
import type { FileTree } from './use-file-tree';

export interface TreeRow {
  path: string;
  entry: FileEntry;
  depth: number;
}

export interface TreeActions {
  select(path: string, dir: boolean): void;
  open(row: TreeRow): void;
  download(row: TreeRow): void;
  rename(row: TreeRow): void;
  remove(row: TreeRow): void;
  drop(dir: string, dt: DataTransfer): void;
}

function flatten(tree: FileTree, dir: string, depth: number, out: TreeRow[]): TreeRow[] {
  for (const entry of tree.dirs.get(dir)?.entries ?? []) {
    const path = join(dir, entry.name);
    out.push({ path, entry, depth });
    if (entry.type === 'dir' && tree.expanded.has(path)) flatten(tree, path, depth + 1, out);
  }
  return out;
}

const hasFiles = (e: DragEvent) => Array.from(e.dataTransfer.types).includes('Files');

export function FileTreeView({ tree, selected, actions }: { tree: FileTree; selected: string | null; actions: TreeActions }) {
  const [target, setTarget] = useState<string | null>(null);
  const rows = flatten(tree, '/', 0, []);
  const root = tree.dirs.get('/');

  const over = (e: DragEvent, dir: string) => {
    if (!hasFiles(e)) return;
    // Handled here: the workspace's OTA drop must not see a drop meant for a folder.
    e.preventDefault();
    e.stopPropagation();
    e.dataTransfer.dropEffect = 'copy';
    if (target !== dir) setTarget(dir);
  };
  const drop = (e: DragEvent, dir: string) => {
    if (!hasFiles(e)) return;
    e.preventDefault();
    e.stopPropagation();
    setTarget(null);
    actions.drop(dir, e.dataTransfer);
  };

  return (
    <div
      className={`ftree${target === '/' ? ' drop-on' : ''}`}
      role="tree"
      aria-label="Device files"
      data-testid="file-tree"
      data-drop-path="/"
      onDragOver={(e) => over(e, '/')}
      onDragLeave={(e) => {
        if (!e.currentTarget.contains(e.relatedTarget as Node | null)) setTarget(null);
      }}
      onDrop={(e) => drop(e, '/')}
    >
      <div className="ftree-head" aria-hidden="true">
        <span>Name</span>
        <span className="num">Size</span>
        <span>Modified</span>
        <span />
      </div>
      {rows.map((r) => {
        const dir = r.entry.type === 'dir';
        const open = dir && tree.expanded.has(r.path);
        const state = dir ? tree.dirs.get(r.path) : undefined;
        const dropDir = dir ? r.path : parentOf(r.path);
        return (
          <div
            key={r.path}
            role="treeitem"
            aria-expanded={dir ? open : undefined}
            aria-selected={selected === r.path}
            className={`frow${selected === r.path ? ' selected' : ''}${dir && target === r.path ? ' drop-on' : ''}`}
            data-testid="file-row"
            data-path={r.path}
            data-type={r.entry.type}
            data-size={r.entry.size ?? ''}
            onClick={() => {
              actions.select(r.path, dir);
              if (dir) tree.toggle(r.path);
            }}
            onDoubleClick={() => !dir && actions.open(r)}
            onDragOver={(e) => over(e, dropDir)}
            onDrop={(e) => drop(e, dropDir)}
          >
            <span className="fname" style={{ paddingLeft: 8 + r.depth * 18 }}>
              <span className={`fchev${dir ? '' : ' hidden'}${open ? ' open' : ''}`}>
                <Icon name="chevron" size={12} />
              </span>
              <span className={dir ? 'ficon dir' : 'ficon'}>
                <FIcon name={dir ? 'folder' : /\.(py|m?js|json)$/.test(r.entry.name) ? 'code' : 'file'} />
              </span>
              <span className="ftext">{r.entry.name}</span>
              {state?.loading ? <span className="muted small"> loading…</span> : null}
              {state?.error ? <span className="danger-text small"> {state.error}</span> : null}
            </span>
            <span className="num muted">{dir ? '' : r.entry.size !== undefined ? bytes(r.entry.size) : '—'}</span>
            <span className="muted">{r.entry.mtime ? clock(r.entry.mtime) : '—'}</span>
            <span className="frow-actions" onClick={(e) => e.stopPropagation()} onDoubleClick={(e) => e.stopPropagation()}>
              {dir ? null : (
                <button className="ibtn" title="Open in editor" aria-label={`Open ${r.entry.name}`} data-testid="row-open" onClick={() => actions.open(r)}>
                  <FIcon name="code" size={14} />
                </button>
              )}
              <button className="ibtn" title={dir ? 'Download as zip' : 'Download'} aria-label={`Download ${r.entry.name}`} data-testid="row-download" onClick={() => actions.download(r)}>
                <Icon name="download" size={14} />
              </button>
              <button className="ibtn" title="Rename" aria-label={`Rename ${r.entry.name}`} data-testid="row-rename" onClick={() => actions.rename(r)}>
                <FIcon name="pencil" size={14} />
              </button>
              <button className="ibtn danger" title="Delete" aria-label={`Delete ${r.entry.name}`} data-testid="row-delete" onClick={() => actions.remove(r)}>
                <Icon name="trash" size={14} />
              </button>
            </span>
          </div>
        );
      })}
      {root?.loading && !root.entries ? <div className="empty">Listing files…</div> : null}
      {root?.error ? (
        <div className="empty danger-text" data-testid="tree-error">
          {root.error}
        </div>
      ) : null}
      {root?.entries && root.entries.length === 0 ? <div className="empty">No files yet. Drop files or folders here to upload them.</div> : null}
      <div className="ftree-fill" />
    </div>
  );
}
