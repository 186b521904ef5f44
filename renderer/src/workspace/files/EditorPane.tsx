// A text file open for editing: loaded through the host (fsReadText), edited in CodeMirror
// (lazily loaded), saved back with an atomic, verified put (fsWriteText). Ctrl/Cmd-S saves.
import { lazy, Suspense, useCallback, useEffect, useState } from 'react';
import { useAppStore, useBridge } from '../../ui/context';
import { bytes } from '../../ui/format';
import { Icon } from '../../ui/icons';
import { languageOf } from './code-language';
import { FIcon } from './file-icons';

const CodeEditor = lazy(() => import('./CodeEditor'));

type Loaded = { text: string; sha256: string; size: number; version: number };

export function EditorPane({ prefix, path, onClose, onSaved }: { prefix: string; path: string; onClose: () => void; onSaved: (path: string) => void }) {
  const bridge = useBridge();
  const app = useAppStore();
  const [loaded, setLoaded] = useState<Loaded | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [text, setText] = useState('');
  const [saving, setSaving] = useState(false);
  const [savedAt, setSavedAt] = useState<number | null>(null);

  useEffect(() => {
    // The pane is keyed by path (FilesTab), so each file starts from a fresh, empty state.
    const ac = new AbortController();
    bridge
      .call('fsReadText', { prefix, path }, { signal: ac.signal })
      .then((r) => {
        setLoaded({ ...r, version: Date.now() });
        setText(r.text);
      })
      .catch((e: unknown) => {
        if (!ac.signal.aborted) setError(e instanceof Error ? e.message : String(e));
      });
    return () => ac.abort();
  }, [bridge, prefix, path]);

  const dirty = loaded !== null && text !== loaded.text;
  const save = useCallback(async () => {
    if (!loaded || saving) return;
    setSaving(true);
    try {
      const r = await bridge.call('fsWriteText', { prefix, path, text });
      setLoaded({ ...loaded, text, sha256: r.sha256, size: r.size });
      setSavedAt(Date.now());
      onSaved(path);
    } catch (e) {
      app.getState().toast('error', `Saving ${path} failed: ${e instanceof Error ? e.message : String(e)}`);
    } finally {
      setSaving(false);
    }
  }, [bridge, app, prefix, path, text, loaded, saving, onSaved]);

  return (
    <section className="editor-pane" data-testid="editor" data-path={path} data-dirty={dirty}>
      <header className="editor-head">
        <FIcon name="code" />
        <span className="editor-path mono" title={path}>
          {path}
        </span>
        {dirty ? <span className="dirty-dot" title="Unsaved changes" data-testid="editor-dirty" /> : null}
        <span className="row-spacer" />
        <span className="muted small" data-testid="editor-status">
          {saving ? 'Saving…' : loaded ? (savedAt && !dirty ? `Saved · ${bytes(loaded.size)} · verified` : `${bytes(loaded.size)} · ${languageOf(path)}`) : ''}
        </span>
        <button className="btn btn-small btn-primary" disabled={!dirty || saving} onClick={() => void save()} data-testid="editor-save" title="Save (Ctrl+S)">
          <FIcon name="save" size={13} /> Save
        </button>
        <button className="ibtn" aria-label="Close editor" onClick={onClose} data-testid="editor-close">
          <Icon name="close" size={12} />
        </button>
      </header>
      <div className="editor-body">
        {error ? (
          <div className="empty danger-text" data-testid="editor-error">
            {error}
          </div>
        ) : loaded ? (
          <Suspense fallback={<div className="empty">Loading editor…</div>}>
            <CodeEditor doc={loaded.text} docKey={`${path}@${loaded.version}`} language={languageOf(path)} onChange={setText} onSave={() => void save()} />
          </Suspense>
        ) : (
          <div className="empty">Reading {path}…</div>
        )}
      </div>
    </section>
  );
}
