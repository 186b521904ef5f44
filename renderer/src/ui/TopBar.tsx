// Title, the broker in use with its connection state in words, and the way to other brokers.
import type { ConnectionState } from '../../../protocol/src';
import { DEMO_PROFILE_ID } from '../../../protocol/src';
import { useApp, useAppStore } from './context';
import { Icon } from './icons';
import { useNow } from './use-now';
import { Logo } from './Logo';
import { FleetLogsButton } from '../workspace/logs/FleetLogs';
import { RolloutsButton } from '../rollouts/Rollouts';

export function TopBar() {
  const connection = useApp((s) => s.connection);
  const active = useApp((s) => s.profiles.active);
  const profileName = useApp((s) => s.profiles.profiles.find((p) => p.id === s.profiles.active)?.name);
  const store = useAppStore();
  const name = active === DEMO_PROFILE_ID ? 'Demo broker' : (profileName ?? 'No broker');
  return (
    <header className="topbar">
      <div className="brand">
        <Logo />
        <span className="brand-name">MQBoard</span>
      </div>
      <button className="broker-switch" data-testid="broker-switch" onClick={() => store.getState().setDialog({ kind: 'profiles', editId: active ?? undefined })} title="Connections">
        <Icon name="server" />
        <span className="broker-name" data-testid="broker-name">{name}</span>
        <ConnectionPill state={connection} />
      </button>
      <div className="topbar-spacer" />
      <RolloutsButton />
      <FleetLogsButton />
      <button className="btn btn-ghost" onClick={() => store.getState().setDialog({ kind: 'profiles' })} data-testid="open-connections">
        Connections…
      </button>
    </header>
  );
}

function ConnectionPill({ state }: { state: ConnectionState | null }) {
  const now = useNow();
  if (!state) return <span className="pill pill-muted">…</span>;
  const words: Record<ConnectionState['phase'], string> = {
    idle: 'Not connected',
    connecting: 'Connecting',
    connected: 'Connected',
    reconnecting: 'Reconnecting',
    closed: 'Disconnected',
  };
  const tone = state.phase === 'connected' ? 'ok' : state.phase === 'connecting' || state.phase === 'reconnecting' ? 'warn' : 'bad';
  const retry = state.phase === 'reconnecting' && state.retryAt ? ` in ${Math.max(0, Math.ceil((state.retryAt - now) / 1000))}s` : '';
  return (
    <span className={`pill pill-${tone}`} data-testid="connection-state" data-phase={state.phase} title={state.error ? `${state.error.code}: ${state.error.message}` : state.url}>
      <span className="dot" />
      {words[state.phase]}
      {retry}
    </span>
  );
}
