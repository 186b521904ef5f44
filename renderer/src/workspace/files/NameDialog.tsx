// Asks for one file or folder name (new folder, rename), checking it as the user types.
import { useEffect, useRef, useState } from 'react';
import { Modal } from '../../ui/Modal';
import { nameProblem } from './paths';

export function NameDialog(p: { title: string; label: string; initial: string; confirm: string; onSubmit: (name: string) => Promise<void>; onCancel: () => void }) {
  const [name, setName] = useState(p.initial);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const problem = nameProblem(name);
  const input = useRef<HTMLInputElement>(null);
  useEffect(() => {
    // Once, when the dialog opens: select the stem, not the extension, as file managers do.
    const el = input.current;
    if (!el) return;
    el.focus();
    const dot = el.value.lastIndexOf('.');
    el.setSelectionRange(0, dot > 0 ? dot : el.value.length);
  }, []);
  const submit = async () => {
    if (problem || busy) return;
    setBusy(true);
    setError(null);
    try {
      await p.onSubmit(name.trim());
    } catch (e) {
      setError(e instanceof Error ? e.message : String(e));
      setBusy(false);
    }
  };
  return (
    <Modal
      title={p.title}
      onClose={p.onCancel}
      testId="name-dialog"
      footer={
        <>
          <button className="btn" onClick={p.onCancel}>
            Cancel
          </button>
          <button className="btn btn-primary" disabled={!!problem || busy} onClick={() => void submit()} data-testid="name-ok">
            {busy ? 'Working…' : p.confirm}
          </button>
        </>
      }
    >
      <label className="field">
        <span>{p.label}</span>
        <input
          ref={input}
          value={name}
          data-testid="name-input"
          spellCheck={false}
          onChange={(e) => setName(e.target.value)}
          onKeyDown={(e) => {
            if (e.key === 'Enter') void submit();
          }}
        />
        {name && problem ? <small className="danger-text">{problem}</small> : null}
        {error ? <small className="danger-text" data-testid="name-error">{error}</small> : null}
      </label>
    </Modal>
  );
}
