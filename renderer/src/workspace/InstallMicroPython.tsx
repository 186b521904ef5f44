// Moving a board that runs the original MQBoard code to our MicroPython package, over MQTT
// (electron/src/engine/board-install.ts): its config is kept, each file verified, and the
// original safe mode stays the way back. Settings the board's config does not hold are asked for
// here; the host says which ones when it finds them missing.
import { useState } from 'react';
import { useAppStore, useBridge } from '../ui/context';
import { Modal } from '../ui/Modal';
import { Icon } from '../ui/icons';

/** The package needs MicroPython 1.22 or newer; a build such as `v1.12-mqboard` says its release. */
export function tooOldForPackage(firmware: string | undefined): boolean {
  const m = /^v?(\d+)\.(\d+)/.exec(firmware ?? '');
  return m !== null && (Number(m[1]) < 1 || (Number(m[1]) === 1 && Number(m[2]) < 22));
}

/** A board that runs the original code (the host checks its MicroPython release again). */
export function InstallMicroPythonCard({ prefix, online, firmware }: { prefix: string; online: boolean; firmware: string | undefined }) {
  const [open, setOpen] = useState(false);
  const old = tooOldForPackage(firmware);
  return (
    <section className="card" data-testid="install-micropython">
      <h3>MQBoard MicroPython</h3>
      <p className="muted">
        Replace the original framework with the MQBoard MicroPython package: verified and atomic uploads, crash records, a live REPL and OTA with rollback, driven like every MQBoard device. No USB cable: it goes over this broker, and the original safe mode stays on the board as the way back.
      </p>
      {old ? (
        <p className="muted" data-testid="install-micropython-too-old">
          It runs MicroPython {firmware}; the package needs 1.22 or newer. Update its firmware first (Rollouts, with a MicroPython image for original boards).
        </p>
      ) : null}
      <button className="btn" disabled={!online || old} onClick={() => setOpen(true)} data-testid="install-micropython-open">
        <Icon name="upload" /> Install MQBoard MicroPython…
      </button>
      {open ? <InstallDialog prefix={prefix} onClose={() => setOpen(false)} /> : null}
    </section>
  );
}

function InstallDialog({ prefix, onClose }: { prefix: string; onClose: () => void }) {
  const bridge = useBridge();
  const store = useAppStore();
  const [wifiSsid, setWifiSsid] = useState('');
  const [wifiPassword, setWifiPassword] = useState('');
  const [server, setServer] = useState('');
  const [port, setPort] = useState('');
  const [waitS, setWaitS] = useState(120);
  const [running, setRunning] = useState<AbortController | null>(null);
  const [error, setError] = useState<string | null>(null);

  const install = async () => {
    const ac = new AbortController();
    setRunning(ac);
    setError(null);
    const portNumber = Number(port);
    const overrides = {
      ...(wifiSsid.trim() ? { wifiSsid: wifiSsid.trim() } : {}),
      ...(wifiPassword ? { wifiPassword } : {}),
      ...(server.trim() ? { server: server.trim() } : {}),
      ...(port.trim() && Number.isInteger(portNumber) ? { port: portNumber } : {}),
    };
    try {
      const r = await bridge.call('installMicroPython', { prefix, overrides, waitS }, { signal: ac.signal });
      store.getState().toast('success', `${prefix} runs ${r.runtime} ${r.version} now (${r.files} files installed)`);
      onClose();
    } catch (e) {
      if (!ac.signal.aborted) setError(e instanceof Error ? e.message : String(e));
    } finally {
      setRunning(null);
    }
  };

  const footer = (
    <>
      <button className="btn btn-ghost" onClick={() => (running ? running.abort() : onClose())}>
        {running ? 'Stop waiting' : 'Cancel'}
      </button>
      <button className="btn btn-primary" disabled={running !== null} onClick={() => void install()} data-testid="install-micropython-start">
        {running ? 'Installing…' : 'Install and reset'}
      </button>
    </>
  );
  return (
    <Modal title="Install MQBoard MicroPython" onClose={() => (running ? undefined : onClose())} footer={footer} testId="install-micropython-dialog">
      <p>
        <strong>{prefix}</strong>
      </p>
      <p>
        The host reads the board&apos;s config (broker, prefix, Wi-Fi), puts the package&apos;s files into <code>/lib</code>, verifies each, switches the boot to the new framework, resets the board and waits until it reports as an MQBoard MicroPython device. If it does not come back, the original safe mode takes over and the board stays reachable.
      </p>
      <p className="muted">Fill these in only when the board&apos;s config does not hold them, or to change them; the host names what is missing.</p>
      <div className="grid2">
        <label className="field">
          <span>Wi-Fi network</span>
          <input value={wifiSsid} maxLength={32} onChange={(e) => setWifiSsid(e.target.value)} disabled={running !== null} data-testid="install-wifi-ssid" />
        </label>
        <label className="field">
          <span>Wi-Fi password</span>
          <input type="password" value={wifiPassword} maxLength={64} onChange={(e) => setWifiPassword(e.target.value)} disabled={running !== null} autoComplete="off" />
        </label>
        <label className="field">
          <span>Broker host</span>
          <input value={server} maxLength={253} onChange={(e) => setServer(e.target.value)} disabled={running !== null} />
        </label>
        <label className="field">
          <span>Broker port</span>
          <input value={port} inputMode="numeric" maxLength={5} onChange={(e) => setPort(e.target.value.replace(/\D/g, ''))} disabled={running !== null} />
        </label>
        <label className="field">
          <span>Wait for it to come back (s)</span>
          <input type="number" min={10} max={600} value={waitS} onChange={(e) => setWaitS(Math.min(600, Math.max(10, Number(e.target.value) || 120)))} disabled={running !== null} />
        </label>
      </div>
      {running ? (
        <p className="muted" role="status" data-testid="install-micropython-progress">
          Installing: about twenty files go over the original protocol, then the board resets; this takes up to {waitS + 60} s.
        </p>
      ) : null}
      {error ? (
        <p className="form-error" role="alert" data-testid="install-micropython-error">
          {error}
        </p>
      ) : null}
    </Modal>
  );
}
