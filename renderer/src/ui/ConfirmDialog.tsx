// Asks before anything that restarts or removes a device.
import type { ReactNode } from 'react';
import { Modal } from './Modal';

export function ConfirmDialog(p: { title: string; body: ReactNode; confirm: string; danger?: boolean; busy?: boolean; onConfirm: () => void; onCancel: () => void }) {
  return (
    <Modal
      title={p.title}
      onClose={p.onCancel}
      testId="confirm-dialog"
      footer={
        <>
          <button className="btn" onClick={p.onCancel} data-testid="confirm-cancel">
            Cancel
          </button>
          <button className={`btn ${p.danger ? 'btn-danger' : 'btn-primary'}`} disabled={p.busy} onClick={p.onConfirm} data-testid="confirm-ok" autoFocus>
            {p.busy ? 'Working…' : p.confirm}
          </button>
        </>
      }
    >
      {p.body}
    </Modal>
  );
}
