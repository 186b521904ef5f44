// The window: top bar (broker and connection), the demo banner, then the fleet list on the left
// and the device workspace on the right.
import { useEffect } from 'react';
import { ConnectionBanner } from './ConnectionBanner';
import { DemoBanner } from './DemoBanner';
import { DeviceList } from './DeviceList';
import { Dialogs } from './Dialogs';
import { FleetToolbar } from './FleetToolbar';
import { Toasts } from './Toasts';
import { TopBar } from './TopBar';
import { useApp, useAppStore } from './context';
import { Workspace } from '../workspace/Workspace';

export function App() {
  const hostLost = useApp((s) => s.hostLost);
  const store = useAppStore();

  useEffect(() => {
    // `/` focuses the search from anywhere except while typing in a field.
    const onKey = (e: KeyboardEvent) => {
      const t = e.target as HTMLElement | null;
      const typing = t && (t.tagName === 'INPUT' || t.tagName === 'TEXTAREA' || t.tagName === 'SELECT' || t.isContentEditable);
      if (e.key === '/' && !typing && !e.ctrlKey && !e.metaKey && !e.altKey && store.getState().dialog === null) {
        e.preventDefault();
        document.querySelector<HTMLInputElement>('[data-testid="device-search"]')?.focus();
      }
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [store]);

  return (
    <div className="app" data-testid="app">
      <TopBar />
      {hostLost ? (
        <div className="banner banner-error" role="alert" data-testid="host-lost">
          <strong>Disconnected from the MQBoard host.</strong> {hostLost}. Restart <code>npm run web</code> and open the new address.
        </div>
      ) : (
        <>
          <ConnectionBanner />
          <DemoBanner />
        </>
      )}
      <main className="main">
        <section className="fleet" aria-label="Devices">
          <FleetToolbar />
          <DeviceList />
        </section>
        <Workspace />
      </main>
      <Dialogs />
      <Toasts />
    </div>
  );
}
