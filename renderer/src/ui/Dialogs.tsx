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
      <Simulate onDone={close} />
    </Modal>
  );
}

/** Starts simulated devices from the bundled device runtime on the broker in use. */
function Simulate({ onDone }: { onDone: () => void }) {
  const store = useAppStore();
  const bridge = useBridge();
  const [count, setCount] = useState('5');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const start = async () => {
    setBusy(true);
    setError(null);
    try {
      const { prefixes } = await bridge.call('startSimulator', { prefix: `sim/${Date.now().toString(36)}`, count: Number(count) });
      store.getState().toast('success', `Started ${prefixes.length} simulated device${prefixes.length === 1 ? '' : 's'}`);
      onDone();
    } catch (e) {
      setError(e instanceof Error ? e.message : String(e));
    } finally {
      setBusy(false);
    }
  };
  return (
    <div className="simulate">
      <span className="field-label">Or start simulated devices on this broker</span>
      <div className="simulate-row">
        <input type="number" min={1} max={1000} value={count} onChange={(e) => setCount(e.target.value)} data-testid="simulate-count" />
        <button className="btn" disabled={busy || !(Number(count) >= 1)} onClick={() => void start()} data-testid="simulate-start">
          {busy ? 'Starting…' : 'Start simulated devices'}
        </button>
      </div>
      {error ? <p className="form-error">{error}</p> : null}
    </div>
  );
}
