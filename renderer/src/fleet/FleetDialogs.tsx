// The fleet action dialogs, one at a time, chosen by the store's fleetDialog (the selection bar
// and the list head open them).
import { useApp } from '../ui/context';
import { PutDialog } from './PutDialog';
import { ResetDialog } from './ResetDialog';
import { ResultsDialog } from './ResultsDialog';
import { RunDialog } from './RunDialog';
import { TagsDialog } from './TagsDialog';

export function FleetDialogs() {
  const d = useApp((s) => s.fleetDialog);
  if (!d) return null;
  switch (d.kind) {
    case 'run':
      return <RunDialog prefixes={d.prefixes} />;
    case 'put':
      return <PutDialog prefixes={d.prefixes} />;
    case 'reset':
      return <ResetDialog prefixes={d.prefixes} />;
    case 'tags':
      return <TagsDialog prefixes={d.prefixes} />;
    case 'results':
      // Keyed by job so a re-run starts with a fresh view.
      return <ResultsDialog key={d.job} jobId={d.job} />;
  }
}
