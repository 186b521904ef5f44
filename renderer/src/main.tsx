// Renderer entry: picks the transport (Electron preload or web-mode WebSocket), creates the
// store and the bridge client once, starts the feed and renders the app.
import './zod-jitless';
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { createBridgeClient } from './bridge/client';
import { startFeed } from './bridge/feed';
import { ipcTransport, type Transport } from './bridge/transport';
import { wsTransport } from './bridge/ws-transport';
import { createLogRing } from './state/log-ring';
import { createAppStore } from './state/store';
import { App } from './ui/App';
import { installScriptStyles } from './ui/csp-styles';
import { BridgeContext, LogContext, StoreContext } from './ui/context';
// Global styles, in cascade order; feature tabs import their own next to their components.
import './styles/theme.css';
import './styles/chrome.css';
import './styles/controls.css';
import './styles/fleet.css';
import './styles/selection.css';
import './styles/jobs.css';
import './styles/workspace.css';
import './styles/overview.css';
import './styles/dialogs.css';
import './styles/feedback.css';
import { launchCommand } from './ui/launch-command';

// Before anything renders: the terminal's run-time styles must land where the CSP allows them.
installScriptStyles();

function pickTransport(): Transport | string {
  if (window.mqboard) return ipcTransport(window.mqboard);
  const token = new URLSearchParams(location.hash.slice(1)).get('token');
  if (!token) {
    const command = launchCommand() ?? 'npm start` or `npm run web';
    return `This page needs the address MQBoard printed when it started (with \`${command}\`): it carries a one-time token.`;
  }
  return wsTransport(token);
}

const root = createRoot(document.getElementById('root')!);
const transport = pickTransport();
if (typeof transport === 'string') {
  root.render(<p className="fatal">{transport}</p>);
} else {
  const store = createAppStore();
  const bridge = createBridgeClient(transport);
  const logs = createLogRing();
  startFeed(bridge, store, logs).catch((e: unknown) => store.setState({ hostLost: e instanceof Error ? e.message : String(e) }));
  root.render(
    <StrictMode>
      <StoreContext.Provider value={store}>
        <BridgeContext.Provider value={bridge}>
          <LogContext.Provider value={logs}>
            <App />
          </LogContext.Provider>
        </BridgeContext.Provider>
      </StoreContext.Provider>
    </StrictMode>,
  );
}
