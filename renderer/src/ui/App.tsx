// The window: top bar (broker and connection), the demo banner, then the fleet list on the left
// and the device workspace on the right.
import { useEffect } from 'react';
import type { AppInfo } from '../../../protocol/src';
import { ConnectionBanner } from './ConnectionBanner';
import { DemoBanner } from './DemoBanner';
import { DeviceList } from './DeviceList';
import { Dialogs } from './Dialogs';
import { FleetToolbar } from './FleetToolbar';
import { Toasts } from './Toasts';
import { TopBar } from './TopBar';
import { useApp, useAppStore } from './context';
import { Workspace } from '../workspace/Workspace';
import { FleetDialogs } from '../fleet/FleetDialogs';
import { ListHead } from '../fleet/ListHead';
import { SavedViews } from '../fleet/SavedViews';
import { SelectionBar } from '../fleet/SelectionBar';
import { isTypingTarget, modalOpen, nothingFocused } from './shortcuts';
import { launchCommand } from './launch-command';

const LIST_KEYS = new Set(['ArrowDown', 'ArrowUp', 'PageDown', 'PageUp', 'Home', 'End', 'Enter']);

export function App() {
  const hostLost = useApp((s) => s.hostLost);
  const app = useApp((s) => s.app);
  const store = useAppStore();

  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (e.defaultPrevented || e.ctrlKey || e.metaKey || e.altKey) return;
      if (isTypingTarget(e) || modalOpen() || store.getState().dialog !== null) return;
      // Escape with nothing in particular focused drops the selection (the list does it too).
      if (e.key === 'Escape' && nothingFocused()) {
        store.getState().clearSelected();
        return;
      }
      // `/` focuses the search.
      if (e.key === '/') {
        e.preventDefault();
        document.querySelector<HTMLInputElement>('[data-testid="device-search"]')?.focus();
        return;
      }
      // With nothing focused (a fresh page), the list keys work as if the list had the focus.
      if (LIST_KEYS.has(e.key) && nothingFocused()) {
        const list = document.querySelector<HTMLElement>('[data-testid="device-list"]');
        if (!list) return;
        e.preventDefault();
        list.focus();
        list.dispatchEvent(new KeyboardEvent('keydown', { key: e.key, code: e.code, shiftKey: e.shiftKey, bubbles: true, cancelable: true }));
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
          <strong>Disconnected from the MQBoard host.</strong> {hostLost}. <HowToRestart app={app} />
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
          <SavedViews />
          <ListHead />
          <DeviceList />
          <SelectionBar />
        </section>
        <Workspace />
      </main>
      <Dialogs />
      <FleetDialogs />
      <Toasts />
    </div>
  );
}

/**
 * What brings the host back: the desktop app restarts as a whole; in web mode the command that
 * served this page runs again and prints a new address (with a new token). The host names that
 * command in the page it serves (launch-command.ts).
 */
function HowToRestart({ app }: { app: AppInfo | null }) {
  if (app?.shell === 'electron') return <>Restart MQBoard.</>;
  const command = launchCommand();
  if (command) {
    return (
      <>
        Run <code>{command}</code> again and open the address it prints.
      </>
    );
  }
  return (
    <>
      Run the command that started MQBoard again (<code>npm start</code> or <code>npm run web</code>) and open the address it prints.
    </>
  );
}
