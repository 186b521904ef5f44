// The ways a running boot of the device ends in another boot, and what each leaves in RTC
// memory for the next boot to read (its boot reason, and a requested mode).
import type { ResetMode } from '../../protocol/src';
import type { RtcState } from './rtc';

/** Why a running session ends and how the next boot should see it. */
export type Reboot = { kind: 'reset'; mode: ResetMode } | { kind: 'watchdog' } | { kind: 'module-failure' } | { kind: 'revert' };

/** What the RTC memory says after each kind of reboot. */
export function rtcForReboot(s: RtcState, r: Reboot): RtcState {
  switch (r.kind) {
    case 'reset':
      if (r.mode === 'soft') return { ...s, resetReason: 'soft' };
      if (r.mode === 'hard') return { ...s, resetReason: 'command' };
      return { ...s, resetReason: 'command', request: r.mode };
    case 'watchdog':
      return { ...s, resetReason: 'watchdog' };
    case 'module-failure':
      return { ...s, resetReason: 'crash' };
    case 'revert':
      return { ...s, resetReason: 'command', request: 'normal' };
  }
}

