// When the broker connection is down, say why and when the next attempt is, in words, with
// the way to fix it (the connection editor) one click away. While connected, say so when the
// device list may be incomplete (the broker dropped retained statuses or refused a subscription).
import { useState } from 'react';
import { oneLine } from '../../../protocol/src/control-chars';
import { useApp, useAppStore, useBridge } from './context';
import { Icon } from './icons';
import { useNow } from './use-now';

export function ConnectionBanner() {
  const state = useApp((s) => s.connection);
  const active = useApp((s) => s.profiles.active);
  const store = useAppStore();
  const bridge = useBridge();
  const now = useNow();
  const [retrying, setRetrying] = useState(false);
  if (state?.phase === 'connected') return <DiscoveryBanner />;
  if (!state || state.phase === 'connecting' || !state.error) return null;
  const retry = state.phase === 'reconnecting' && state.retryAt ? `Retrying in ${Math.max(0, Math.ceil((state.retryAt - now) / 1000))} s.` : '';
  return (
    <div className="banner banner-error" role="alert" data-testid="connection-banner" data-code={state.error.code}>
      <Icon name="alert" />
      <span>
        <strong>Cannot reach the broker.</strong> {state.error.message} {retry}
      </span>
      {(state.phase === 'closed' || state.phase === 'reconnecting') && active ? (
        <button
          className="btn btn-small"
          disabled={retrying}
          data-testid="connection-retry"
          onClick={() => {
            setRetrying(true);
            // The new attempt's outcome arrives on the connection stream; nothing to show here.
            bridge
              .call('useProfile', { id: active })
              .catch(() => undefined)
              .finally(() => setRetrying(false));
          }}
        >
          {retrying ? 'Connecting…' : 'Retry now'}
        </button>
      ) : null}
      <button className="btn btn-small" onClick={() => store.getState().setDialog({ kind: 'profiles', editId: active ?? undefined })}>
        Edit connection…
      </button>
    </div>
  );
}

function DiscoveryBanner() {
  const discovery = useApp((s) => s.discovery);
  if (!discovery?.incomplete) return null;
  return (
    <div className="banner banner-warn" role="status" data-testid="discovery-banner">
      <Icon name="alert" />
      <span>
        <strong>The device list may be incomplete.</strong> {discovery.reason ? oneLine(discovery.reason) : 'The broker did not deliver every device status.'}
        {discovery.listed !== undefined ? ` ${discovery.listed} device${discovery.listed === 1 ? '' : 's'} listed so far.` : ''} Devices missing now appear when they next publish their status.
      </span>
    </div>
  );
}
