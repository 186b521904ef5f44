import { describe, expect, it } from 'vitest';
import { formatBytes, formatProgress } from './progress-bar';

describe('progress line', () => {
  it('shows a bar, bytes, rate and ETA', () => {
    expect(formatProgress('put a.bin', { bytesDone: 512 * 1024, bytesTotal: 1024 * 1024, rate: 256 * 1024, etaMs: 2000 }, 10)).toBe(
      'put a.bin [#####-----]  50% 512.0 KiB/1.0 MiB 256.0 KiB/s ETA 2s',
    );
  });

  it('leaves out the bar when the total is unknown', () => {
    expect(formatProgress('get x', { bytesDone: 100, bytesTotal: 0, rate: 50 })).toBe('get x  100 B 50 B/s');
  });

  it('scales units', () => {
    expect([formatBytes(1023), formatBytes(1536), formatBytes(3 * 1024 * 1024)]).toEqual(['1023 B', '1.5 KiB', '3.0 MiB']);
  });
});
