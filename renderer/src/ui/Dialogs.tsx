// Which dialog is open lives in the store, so the top bar, the banner and the menu can all
// open the same one.
import { useState } from 'react';
import { useApp, useAppStore, useBridge } from './context';
import { Modal } from './Modal';
import { ProfilesDialog } from './ProfilesDialog';

export function Dialogs() {
  const dialog = useApp((s) => s.dialog);
  if (!dialog) return null;
  if (dialog.kind === 'profiles') return <ProfilesDialog editId={dialog.editId} />;
  return <AddDeviceDialog />;
}

function AddDeviceDialog() {
  const store = useAppStore();
  const bridge = useBridge();
  const [prefix, setPrefix] = useState('');
  const [error, setError] = useState<string | null>(null);
  const close = () => store.getState().setDialog(null);
  const add = async () => {
    try {
      const d = await bridge.call('addDevice', { prefix: prefix.trim() });
      close();
      store.getState().openDevice(d.prefix);
    } catch (e) {
      setError(e instanceof Error ? e.message : String(e));
    }
  };
  return (
    <Modal
      title="Add a device"
      onClose={close}
      testId="add-device-dialog"
      footer={
        <>
          <button className="btn" onClick={close}>
            Cancel
          </button>
          <button className="btn btn-primary" disabled={!prefix.trim()} onClick={() => void add()} data-testid="add-device-ok">
            Add
          </button>
        </>
      }
    >
      <form
        onSubmit={(e) => {
          e.preventDefault();
          void add();
        }}
      >
        <label className="field">
          <span>Topic prefix</span>
          <input autoFocus value={prefix} placeholder="esp32/kitchen" onChange={(e) => setPrefix(e.target.value)} data-testid="add-device-prefix" spellCheck={false} />
          <small>For boards that do not announce themselves (original MQBoard boards without sysinfo). Commands go to <code>{prefix.trim() || 'prefix'}/mqb/cmd/…</code></small>
        </label>
        {error ? <p className="form-error">{error}</p> : null}
      </form>
    </Modal>
  );
}
