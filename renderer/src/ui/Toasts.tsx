// Short confirmations and errors in the corner; each goes away by itself or on click.
import { useEffect } from 'react';
import { useApp, useAppStore } from './context';

export function Toasts() {
  const toasts = useApp((s) => s.toasts);
  const store = useAppStore();
  useEffect(() => {
    if (toasts.length === 0) return;
    const first = toasts[0]!;
    const t = setTimeout(() => store.getState().dismissToast(first.id), first.tone === 'error' ? 8000 : 4000);
    return () => clearTimeout(t);
  }, [toasts, store]);
  return (
    <div className="toasts" aria-live="polite">
      {toasts.map((t) => (
        <button key={t.id} className={`toast toast-${t.tone}`} data-testid="toast" onClick={() => store.getState().dismissToast(t.id)}>
          {t.text}
        </button>
      ))}
    </div>
  );
}
