// Says plainly that the fleet on screen is a demo on an embedded broker, and offers the way to
// a real one.
import { useApp, useAppStore } from './context';
import { Icon } from './icons';

export function DemoBanner() {
  const demo = useApp((s) => s.app?.demo ?? null);
  const store = useAppStore();
  if (!demo) return null;
  return (
    <div className="banner banner-demo" data-testid="demo-banner" role="status">
      <Icon name="flask" />
      <span>
        <strong>Demo broker.</strong> You are looking at {demo.devices} simulated devices on an embedded broker at <code>{demo.url}</code>. Nothing here touches real hardware.
      </span>
      <button className="btn btn-primary btn-small" data-testid="connect-real-broker" onClick={() => store.getState().setDialog({ kind: 'profiles' })}>
        Connect to your broker…
      </button>
    </div>
  );
}
