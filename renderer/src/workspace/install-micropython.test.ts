import { describe, expect, it } from 'vitest';
import { tooOldForPackage } from './InstallMicroPython';

describe('whether an original board can take the MicroPython package', () => {
  it('reads the release from its build: 1.22 and newer can, older cannot, an unknown build is left to the host', () => {
    expect(tooOldForPackage('v1.12-weather-1-8-g251c8f5a3')).toBe(true);
    expect(tooOldForPackage('v1.21.0')).toBe(true);
    expect(tooOldForPackage('v1.22-mqboard')).toBe(false);
    expect(tooOldForPackage('v1.24.1')).toBe(false);
    expect(tooOldForPackage('v2.0')).toBe(false);
    expect(tooOldForPackage(undefined)).toBe(false);
    expect(tooOldForPackage('custom build')).toBe(false);
  });
});
