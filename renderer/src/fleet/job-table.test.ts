// The results view's table: a re-run shows the whole fleet it came from, with the fresh rows in
// place of the failed ones, and rows still running are counted apart from the outcomes.
import { describe, expect, it } from 'vitest';
import type { JobResult, JobSummary } from '../../../protocol/src';
import type { JobView } from '../state/store';
import { jobTable } from './job-table';

const summary = (id: string, rerunOf?: string): JobSummary => ({ id, kind: 'eval', title: '1+1', created: 0, state: 'running', total: 3, counts: {}, rerunOf });
const row = (prefix: string, status: JobResult['status'], output?: string): JobResult => ({ prefix, status, output, ms: 5, at: 0 });
const view = (s: JobSummary, rows: JobResult[]): JobView => ({ summary: s, results: new Map(rows.map((r) => [r.prefix, r])), heard: 0 });

describe('job table', () => {
  it('keeps running rows out of the outcomes', () => {
    const j = view(summary('a'), [row('d/1', 'ok', '2'), row('d/2', 'running'), row('d/3', 'timeout')]);
    const t = jobTable(j, new Map([['a', j]]));
    expect(t.running).toBe(1);
    expect(t.finished.map((r) => r.prefix)).toEqual(['d/1', 'd/3']);
  });
  it('lays a re-run over the job it re-ran', () => {
    const first = view(summary('a'), [row('d/1', 'ok', '2'), row('d/2', 'error'), row('d/3', 'timeout')]);
    const again = view(summary('b', 'a'), [row('d/2', 'ok', '2'), row('d/3', 'running')]);
    const t = jobTable(
      again,
      new Map([
        ['a', first],
        ['b', again],
      ]),
    );
    expect(t.rows.map((r) => `${r.prefix} ${r.status}`)).toEqual(['d/1 ok', 'd/2 ok', 'd/3 running']);
  });
});
