// The Files tab: the device's filesystem as a tree, uploads by drag-
// and-drop from the OS or by picker, downloads (folders as zip), new folder, rename, delete,
// a text editor pane, and the device's transfer queue. Every transfer runs in the host.
import { useCallback, useEffect, useRef, useState } from 'react';
import { useStore } from 'zustand';
import { useApp, useAppStore, useBridge } from '../../ui/context';
import { ConfirmDialog } from '../../ui/ConfirmDialog';
import { Icon } from '../../ui/icons';
import { fromInput, takeDropped, type LocalTree } from './dropped';
import { dropDraft, moveDrafts } from './drafts';
import { EditorPane } from './EditorPane';
import { FIcon } from './file-icons';
import { FileTreeView, type TreeActions, type TreeRow } from './FileTreeView';
import { NameDialog } from './NameDialog';
import { baseName, isTextName, join, parentOf } from './paths';
import { TransferPanel } from './TransferPanel';
import { transfersStore } from './transfers-store';
import { uploadTree } from './upload';
import { useFileTree } from './use-file-tree';
import './files.css';

type Ask = { kind: 'mkdir'; dir: string } | { kind: 'rename'; row: TreeRow } | { kind: 'delete'; row: TreeRow } | null;

export function FilesTab({ prefix }: { prefix: string }) {
  const bridge = useBridge();
  const app = useAppStore();
  const shell = useApp((s) => s.app?.shell);
  const online = useApp((s) => s.devices.get(prefix)?.presence === 'online');
  const kind = useApp((s) => s.devices.get(prefix)?.kind);
  const tree = useFileTree(bridge, prefix, true);
  const [selected, setSelected] = useState<{ path: string; dir: boolean } | null>(null);
  const [editing, setEditing] = useState<string | null>(null);
  const [ask, setAsk] = useState<Ask>(null);
  const [busy, setBusy] = useState(false);
  const [staging, setStaging] = useState<string | null>(null);
  const fileInput = useRef<HTMLInputElement>(null);
  const dirInput = useRef<HTMLInputElement>(null);
  const xfers = transfersStore(bridge);

  const toast = useCallback((tone: 'info' | 'error' | 'success', text: string) => app.getState().toast(tone, text), [app]);
  const fail = useCallback((what: string) => (e: unknown) => toast('error', `${what}: ${e instanceof Error ? e.message : String(e)}`), [toast]);
  const targetDir = selected ? (selected.dir ? selected.path : parentOf(selected.path)) : '/';

  // A finished upload into a listed folder shows up without a manual refresh.
  const { reload, dirs } = tree;
  const rows = useStore(xfers, (s) => s.rows);
  const seen = useRef(new Set<string>());
  useEffect(() => {
    const folders = new Set<string>();
    for (const t of rows.values()) {
      if (t.prefix !== prefix || t.kind !== 'upload' || t.state !== 'done' || seen.current.has(t.id)) continue;
      seen.current.add(t.id);
      // The upload may have created folders: reload the nearest listed ancestor.
      let d = parentOf(t.path);
      while (d !== '/' && !dirs.has(d)) d = parentOf(d);
      folders.add(d);
    }
    for (const d of folders) void reload(d);
  }, [rows, prefix, reload, dirs]);

  const upload = useCallback(
    async (dir: string, local: LocalTree) => {
      if (local.files.length === 0 && local.dirs.length === 0) return;
      setStaging(`Preparing ${local.files.length} file${local.files.length === 1 ? '' : 's'}…`);
      try {
        const ids = await uploadTree(bridge, prefix, dir, local, (n, total) => setStaging(`Preparing ${n} of ${total}…`));
        if (ids.length === 0) void reload(dir);
        tree.expand(dir);
      } catch (e) {
        fail('Upload')(e);
      } finally {
        setStaging(null);
      }
    },
    [bridge, prefix, reload, tree, fail],
  );

  const pick = (folder: boolean) => {
    if (shell === 'electron') {
      bridge
        .call('xferPickUpload', { prefix, dir: targetDir, folder })
        .then(() => tree.expand(targetDir))
        .catch(fail('Upload'));
    } else (folder ? dirInput : fileInput).current?.click();
  };

  const download = (path: string, folder: boolean) => {
    if (shell === 'electron') {
      bridge.call('xferDownload', { prefix, path, folder, dest: 'dialog' }).catch(fail('Download'));
      return;
    }
    bridge
      .call('xferDownload', { prefix, path, folder, dest: 'memory' })
      .then((r) => r.transfer && xfers.deliverWhenDone(r.transfer))
      .catch(fail('Download'));
  };

  const actions: TreeActions = {
    select: (path, dir) => setSelected({ path, dir }),
    open: (r) => {
      if (r.entry.type !== 'file') return;
      if (!isTextName(r.entry.name)) {
        toast('info', `${r.entry.name} does not look like text; download it instead.`);
        return;
      }
      setEditing(r.path);
    },
    download: (r) => download(r.path, r.entry.type === 'dir'),
    rename: (r) => setAsk({ kind: 'rename', row: r }),
    remove: (r) => setAsk({ kind: 'delete', row: r }),
    drop: (dir, dt) => {
      const taking = takeDropped(dt);
      void taking.then((local) => upload(dir, local), fail('Reading the dropped files'));
    },
  };

  const runDelete = async (r: TreeRow) => {
    setBusy(true);
    try {
      const dir = r.entry.type === 'dir';
      await bridge.call('fsDelete', { prefix, path: r.path, dir, recursive: dir });
      const under = (p: string) => p === r.path || p.startsWith(`${r.path}/`);
      if (editing && under(editing)) setEditing(null);
      if (!dir) dropDraft(prefix, r.path);
      // A selection inside the deleted folder would make it the target of the next upload.
      if (selected && under(selected.path)) setSelected(null);
      if (dir) tree.forget(r.path);
      toast('success', `Deleted ${r.path}`);
      await reload(parentOf(r.path));
    } catch (e) {
      fail(`Deleting ${r.path}`)(e);
    } finally {
      setBusy(false);
      setAsk(null);
    }
  };

  return (
    <div className="files" data-testid="files-tab">
      <div className="files-toolbar">
        <div className="crumbs mono" data-testid="target-dir" title="New folders and uploads go here">
          <FIcon name="folder" size={14} />
          {targetDir}
        </div>
        {kind === 'original' ? <span className="pill pill-muted small" title="Listings and hashes run as MicroPython snippets">MicroPython board</span> : null}
        {staging ? (
          <span className="muted small" data-testid="staging">
            {staging}
          </span>
        ) : null}
        <span className="row-spacer" />
        <button className="btn btn-small" onClick={() => tree.reloadAll()} disabled={!online} data-testid="files-refresh" title="Refresh">
          <Icon name="refresh" size={14} />
        </button>
        <button className="btn btn-small" onClick={() => setAsk({ kind: 'mkdir', dir: targetDir })} disabled={!online} data-testid="files-mkdir">
          <FIcon name="folderPlus" size={14} /> New folder
        </button>
        <button className="btn btn-small" onClick={() => pick(false)} disabled={!online} data-testid="files-upload">
          <Icon name="upload" size={14} /> Upload files
        </button>
        <button className="btn btn-small" onClick={() => pick(true)} disabled={!online} data-testid="files-upload-folder">
          <Icon name="upload" size={14} /> Upload folder
        </button>
        <button className="btn btn-small" onClick={() => download(targetDir, true)} disabled={!online} data-testid="files-download-zip" title={`Download ${targetDir} as a zip`}>
          <Icon name="download" size={14} /> Zip
        </button>
        <input
          ref={fileInput}
          type="file"
          multiple
          hidden
          data-testid="upload-input"
          onChange={(e) => {
            if (e.target.files) void upload(targetDir, fromInput(e.target.files));
            e.target.value = '';
          }}
        />
        <input
          ref={dirInput}
          type="file"
          hidden
          data-testid="upload-folder-input"
          // React types do not know the attribute; Chromium and Firefox do.
          {...{ webkitdirectory: '' }}
          onChange={(e) => {
            if (e.target.files) void upload(targetDir, fromInput(e.target.files));
            e.target.value = '';
          }}
        />
      </div>
      {!online ? <div className="callout callout-warn files-offline">The device is offline; the listing may be out of date and changes are disabled.</div> : null}
      <div className={`files-main${editing ? ' with-editor' : ''}`}>
        <FileTreeView tree={tree} selected={selected?.path ?? null} actions={actions} />
        {editing ? <EditorPane key={editing} prefix={prefix} path={editing} onClose={() => setEditing(null)} onSaved={(p) => void reload(parentOf(p))} /> : null}
      </div>
      <TransferPanel prefix={prefix} dir={targetDir} />

      {ask?.kind === 'mkdir' ? (
        <NameDialog
          title="New folder"
          label={`In ${ask.dir}`}
          initial=""
          confirm="Create"
          onCancel={() => setAsk(null)}
          onSubmit={async (name) => {
            await bridge.call('fsMkdir', { prefix, path: join(ask.dir, name) });
            setAsk(null);
            tree.expand(ask.dir);
            await reload(ask.dir);
          }}
        />
      ) : null}
      {ask?.kind === 'rename' ? (
        <NameDialog
          title={`Rename ${ask.row.entry.type === 'dir' ? 'folder' : 'file'}`}
          label={`New name for ${ask.row.path}`}
          initial={baseName(ask.row.path)}
          confirm="Rename"
          onCancel={() => setAsk(null)}
          onSubmit={async (name) => {
            const to = join(parentOf(ask.row.path), name);
            await bridge.call('fsRename', { prefix, from: ask.row.path, to });
            moveDrafts(prefix, ask.row.path, to);
            // An open file moves with its file or folder.
            if (editing === ask.row.path || editing?.startsWith(`${ask.row.path}/`)) setEditing(to + editing.slice(ask.row.path.length));
            if (ask.row.entry.type === 'dir') tree.forget(ask.row.path);
            setSelected({ path: to, dir: ask.row.entry.type === 'dir' });
            setAsk(null);
            await reload(parentOf(ask.row.path));
          }}
        />
      ) : null}
      {ask?.kind === 'delete' ? (
        <ConfirmDialog
          title={ask.row.entry.type === 'dir' ? 'Delete this folder and everything in it?' : 'Delete this file?'}
          body={
            <p>
              <code>{ask.row.path}</code> is removed from {prefix}
              {ask.row.entry.type === 'dir' ? ', with all its files and folders' : ''}. This cannot be undone.
            </p>
          }
          confirm="Delete"
          danger
          busy={busy}
          onCancel={() => setAsk(null)}
          onConfirm={() => void runDelete(ask.row)}
        />
      ) : null}
    </div>
  );
}
