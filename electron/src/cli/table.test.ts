import { describe, expect, it } from 'vitest';
import { table } from './table';

describe('table', () => {
  it('pads every column to its widest cell, the heading included, with no trailing blanks', () => {
    expect(table(['PREFIX', 'STATE'], [['lab/a-long-one', 'online'], ['b', 'offline']])).toBe(
      'PREFIX          STATE\nlab/a-long-one  online\nb               offline\n',
    );
  });

  it('prints 200,000 rows', () => {
    const rows = Array.from({ length: 200_000 }, (_, i) => [`fleet/${String(i).padStart(6, '0')}`, i % 2 ? 'online' : 'offline']);
    const lines = table(['PREFIX', 'STATE'], rows).split('\n');
    expect(lines).toHaveLength(200_002);
    expect(lines[200_000]).toBe('fleet/199999  online');
  });
});
