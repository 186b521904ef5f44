// A job's table as the results view shows it: a re-run's rows laid over the job it re-ran
// (so the table keeps every device), rows still running kept apart from the grouped outcomes.
import type { JobResult } from '../../../protocol/src';
import { mergeResults, type DeviceResult } from '../../../protocol/src/fleet/results';
import type { JobView } from '../state/store';

export interface JobTable {
  /** Every device with a row, in the order their rows first arrived (re-runs in place). */
  rows: JobResult[];
  /** Rows with a final or queued outcome, as results.ts takes them. */
  finished: DeviceResult[];
  running: number;
}

export function jobTable(job: JobView, jobs: ReadonlyMap<string, JobView>): JobTable {
  let rows = [...job.results.values()];
  // Walk up the re-run chain so the table of a re-run shows the whole fleet it came from.
  const seen = new Set([job.summary.id]);
  for (let parent = job.summary.rerunOf; parent && !seen.has(parent); parent = jobs.get(parent)?.summary.rerunOf) {
    seen.add(parent);
    const before = jobs.get(parent);
    if (!before) break;
    rows = mergeResults([...before.results.values()] as DeviceResult[], rows as DeviceResult[]) as JobResult[];
  }
  const finished: DeviceResult[] = [];
  let running = 0;
  for (const r of rows) {
    if (r.status === 'running') running++;
    else finished.push({ prefix: r.prefix, status: r.status, output: r.output, error: r.error, ms: r.ms });
  }
  return { rows, finished, running };
}
