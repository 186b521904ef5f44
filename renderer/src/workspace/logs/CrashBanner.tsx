// The newest crash record of a device above its log, with its stack one click away, so a
// crash is seen where its log is read. The device
// wrote the message and stack: their control characters are shown, never obeyed.
import { useEffect } from 'react';
import { clock } from '../../ui/format';
import { useApp, useAppStore, useBridge } from '../../ui/context';
import { neutraliseControls } from '../../../../protocol/src/control-chars';

export function CrashBanner({ prefix }: { prefix: string }) {
  const crashes = useApp((s) => s.crashes.get(prefix));
  const crashCount = useApp((s) => s.devices.get(prefix)?.crashCount ?? 0);
  const bridge = useBridge();
  const store = useAppStore();
  useEffect(() => {
    // The details tab loads crash records when it opens; a workspace opened straight on the
    // Logs tab loads them here. The `crashes` stream keeps them fresh afterwards.
    if (crashCount === 0 || store.getState().crashes.has(prefix)) return;
    bridge
      .call('getDevice', { prefix })
      .then((r) => store.getState().setCrashes(prefix, r.crashes))
      .catch(() => {});
  }, [bridge, store, prefix, crashCount]);
  const latest = crashes?.reduce<(typeof crashes)[number] | undefined>((a, c) => (!a || c.time > a.time ? c : a), undefined);
  if (!latest) return null;
  return (
    <details className="log-crash-banner" data-testid="log-crash-banner">
      <summary>
        <span className="badge badge-crash">{latest.reason}</span>
        <span className="crash-message">{neutraliseControls(latest.message, { multiline: false })}</span>
        <span className="muted">
          {clock(latest.time)} · boot {latest.bootCount}
          {crashes && crashes.length > 1 ? ` · ${crashes.length} crash records` : ''}
        </span>
      </summary>
      {latest.stack ? <pre className="code">{neutraliseControls(latest.stack)}</pre> : <p className="muted">No stack recorded.</p>}
    </details>
  );
}
