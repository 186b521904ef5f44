// Saved views: named selectors of the current broker profile, kept by the host (FleetSettings).
// A click puts the selector in the search box; the current search can be saved under a name.
import { useState } from 'react';
import { oneLine } from '../../../protocol/src/control-chars';
import { useApp, useAppStore, useBridge } from '../ui/context';
import { Icon } from '../ui/icons';
import { errorText } from './fleet-errors';

export function SavedViews() {
  const store = useAppStore();
  const bridge = useBridge();
  const views = useApp((s) => s.fleetSettings?.views);
  const search = useApp((s) => s.search);
  const [naming, setNaming] = useState(false);
  const [name, setName] = useState('');
  const [busy, setBusy] = useState(false);
  const current = search.trim();
  // Nothing to show or save: no line taken from the list.
  if (!views || (views.length === 0 && !current && !naming)) return null;
  const fail = (e: unknown) => store.getState().toast('error', `Saved views: ${errorText(e)}`);

  const save = async () => {
    setBusy(true);
    try {
      store.getState().setFleetSettings(await bridge.call('saveView', { name: name.trim(), selector: current }));
      setNaming(false);
      setName('');
    } catch (e) {
      fail(e);
    } finally {
      setBusy(false);
    }
  };
  const remove = async (viewName: string) => {
    try {
      store.getState().setFleetSettings(await bridge.call('deleteView', { name: viewName }));
    } catch (e) {
      fail(e);
    }
  };

  return (
    <div className="saved-views" data-testid="saved-views">
      <span className="saved-views-label">Views</span>
      {views.map((v) => (
        <span key={v.name} className={`view-chip${v.selector.trim() === current ? ' on' : ''}`} data-testid="saved-view" data-name={v.name}>
          <button className="view-apply" title={oneLine(v.selector) || 'all devices'} onClick={() => store.getState().setSearch(v.selector)}>
            {oneLine(v.name)}
          </button>
          <button className="view-delete" aria-label={`Delete view ${oneLine(v.name)}`} data-testid="saved-view-delete" onClick={() => void remove(v.name)}>
            <Icon name="close" size={10} />
          </button>
        </span>
      ))}
      {naming ? (
        <form
          className="view-name"
          onSubmit={(e) => {
            e.preventDefault();
            if (name.trim()) void save();
          }}
        >
          <input
            autoFocus
            value={name}
            maxLength={64}
            placeholder="View name"
            data-testid="saved-view-name"
            onChange={(e) => setName(e.target.value)}
            onKeyDown={(e) => {
              if (e.key === 'Escape') {
                e.stopPropagation();
                setNaming(false);
              }
            }}
          />
          <button className="btn btn-small btn-primary" disabled={busy || !name.trim()} data-testid="saved-view-ok">
            Save
          </button>
        </form>
      ) : (
        <button
          className="linkish"
          data-testid="save-view"
          disabled={!current}
          title={current ? `Save "${current}" as a view` : 'Type a search or selector first'}
          onClick={() => setNaming(true)}
        >
          + Save search
        </button>
      )}
    </div>
  );
}
