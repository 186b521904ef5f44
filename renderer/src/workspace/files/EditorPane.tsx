// A text file open for editing: loaded through the host (fsReadText), edited in CodeMirror
// (lazily loaded), saved back with an atomic, verified put (fsWriteText). Ctrl/Cmd-S saves.
// Unsaved text is a draft (drafts.ts) that outlives the pane; closing with one asks first.
import { lazy, Suspense, useCallback, useEffect, useState } from 'react';
import { useAppStore, useBridge } from '../../ui/context';
import { bytes } from '../../ui/format';
import { Icon } from '../../ui/icons';
import { Modal } from '../../ui/Modal';
import { dropDraft, getDraft, keepDraft } from './drafts';
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
  const [asking, setAsking] = useState(false);

  useEffect(() => {
    // The pane is keyed by path (FilesTab), so each file starts from a fresh, empty state.
    const ac = new AbortController();
    bridge
      .call('fsReadText', { prefix, path }, { signal: ac.signal })
      .then((r) => {
        // An unsaved draft of this file comes back as it was left.
        const draft = getDraft(prefix, path);
        setLoaded({ ...r, version: Date.now() });
        setText(draft ? draft.text : r.text);
      })
      .catch((e: unknown) => {
        if (!ac.signal.aborted) setError(e instanceof Error ? e.message : String(e));
      });
    return () => ac.abort();
  }, [bridge, prefix, path]);

  const dirty = loaded !== null && text !== loaded.text;
  const edit = useCallback(
    (t: string) => {
      setText(t);
      if (loaded) keepDraft(prefix, path, t, loaded.text);
    },
    [prefix, path, loaded],
  );
  /** Saves; true once the device holds the text. */
  const save = useCallback(async (): Promise<boolean> => {
    if (!loaded || saving) return false;
    setSaving(true);
    try {
      const r = await bridge.call('fsWriteText', { prefix, path, text });
      setLoaded({ ...loaded, text, sha256: r.sha256, size: r.size });
      dropDraft(prefix, path);
      setSavedAt(Date.now());
      onSaved(path);
      return true;
    } catch (e) {
      app.getState().toast('error', `Saving ${path} failed: ${e instanceof Error ? e.message : String(e)}`);
      return false;
    } finally {
      setSaving(false);
    }
  }, [bridge, app, prefix, path, text, loaded, saving, onSaved]);
  const close = () => (dirty ? setAsking(true) : onClose());

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
        <button className="ibtn" aria-label="Close editor" onClick={close} data-testid="editor-close">
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
            <CodeEditor doc={text} docKey={`${path}@${loaded.version}`} language={languageOf(path)} onChange={edit} onSave={() => void save()} />
          </Suspense>
        ) : (
          <div className="empty">Reading {path}…</div>
        )}
      </div>
      {asking ? (
        <Modal
          title="Save changes before closing?"
          onClose={() => setAsking(false)}
          testId="unsaved-dialog"
          footer={
            <>
              <button className="btn" onClick={() => setAsking(false)} data-testid="unsaved-cancel">
                Cancel
              </button>
              <button
                className="btn btn-danger"
                onClick={() => {
                  dropDraft(prefix, path);
                  setAsking(false);
                  onClose();
                }}
                data-testid="unsaved-discard"
              >
                Discard
              </button>
              <button
                className="btn btn-primary"
                autoFocus
                disabled={saving}
                onClick={() => {
                  void save().then((ok) => {
                    setAsking(false);
                    if (ok) onClose();
                  });
                }}
                data-testid="unsaved-save"
              >
                {saving ? 'Saving…' : 'Save'}
              </button>
            </>
          }
        >
          <p>
            <code>{path}</code> has unsaved changes. Discarding them cannot be undone.
          </p>
        </Modal>
      ) : null}
    </section>
  );
}
