// "Tags…" on the selection: the user's tags on these devices as chips (with how many of them
// carry each), removable from all at once, and new tags added to all. Tags the devices report
// themselves come from their config and are shown but not editable here.
import { useMemo, useState } from 'react';
import { oneLine } from '../../../protocol/src/control-chars';
import { useApp, useAppStore, useBridge } from '../ui/context';
import { Icon } from '../ui/icons';
import { Modal } from '../ui/Modal';
import { errorText } from './fleet-errors';
import { parseTagInput } from './tag-input';

export function TagsDialog({ prefixes }: { prefixes: readonly string[] }) {
  const store = useAppStore();
  const bridge = useBridge();
  const userTags = useApp((s) => s.userTags);
  const devices = useApp((s) => s.devices);
  const [text, setText] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const close = () => store.getState().setFleetDialog(null);
  const n = prefixes.length;

  const { mine, theirs } = useMemo(() => {
    const mine = new Map<string, number>();
    const theirs = new Map<string, number>();
    for (const p of prefixes) {
      for (const t of userTags[p] ?? []) mine.set(t, (mine.get(t) ?? 0) + 1);
      for (const t of devices.get(p)?.tags ?? []) theirs.set(t, (theirs.get(t) ?? 0) + 1);
    }
    return { mine, theirs };
  }, [prefixes, userTags, devices]);

  const parsed = parseTagInput(text);
  const change = async (add: string[], remove: string[]) => {
    setBusy(true);
    setError(null);
    try {
      store.getState().setFleetSettings(await bridge.call('setTags', { prefixes: [...prefixes], add, remove }));
      if (add.length) setText('');
    } catch (e) {
      setError(errorText(e));
    } finally {
      setBusy(false);
    }
  };
  return (
    <Modal
      title={`Tags of ${n} device${n === 1 ? '' : 's'}`}
      onClose={close}
      testId="tags-dialog"
      footer={
        <button className="btn" onClick={close} data-testid="tags-done">
          Done
        </button>
      }
    >
      <form
        className="tag-add"
        onSubmit={(e) => {
          e.preventDefault();
          if (parsed.tags.length && !parsed.error) void change(parsed.tags, []);
        }}
      >
        <input autoFocus value={text} placeholder="Add tags: greenhouse, batch-3" spellCheck={false} data-testid="tags-input" onChange={(e) => setText(e.target.value)} aria-invalid={parsed.error ? true : undefined} />
        <button className="btn btn-primary" disabled={busy || !parsed.tags.length || parsed.error !== null} data-testid="tags-add">
          Add to {n}
        </button>
      </form>
      {parsed.error ? <p className="form-error">{parsed.error}</p> : null}
      <h4 className="tags-heading">Your tags</h4>
      {mine.size === 0 ? (
        <p className="muted">None of these devices has a tag of yours yet.</p>
      ) : (
        <div className="tag-list" data-testid="tags-mine">
          {[...mine].sort(([a], [b]) => a.localeCompare(b)).map(([t, count]) => (
            <span key={t} className="tag-chip tag-user tag-editable" data-tag={t}>
              {oneLine(t)}
              {count < n ? <span className="tag-count">{count}/{n}</span> : null}
              <button aria-label={`Remove ${oneLine(t)} from all`} title={`Remove from all ${n}`} disabled={busy} data-testid="tag-remove" onClick={() => void change([], [t])}>
                <Icon name="close" size={10} />
              </button>
            </span>
          ))}
        </div>
      )}
      {theirs.size > 0 ? (
        <>
          <h4 className="tags-heading">Reported by the devices</h4>
          <div className="tag-list">
            {[...theirs].map(([t, count]) => (
              <span key={t} className="tag-chip tag-device" title="Set in the device's config">
                {oneLine(t)}
                {count < n ? <span className="tag-count">{count}/{n}</span> : null}
              </span>
            ))}
          </div>
        </>
      ) : null}
      {error ? (
        <p className="form-error" role="alert" data-testid="tags-error">
          {error}
        </p>
      ) : null}
    </Modal>
  );
}
