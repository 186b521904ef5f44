// A device's Logs tab: its stored and live lines, with its newest crash above them.
import { CrashBanner } from './CrashBanner';
import { LogView } from './LogView';

export function LogsTab({ prefix }: { prefix: string }) {
  return <LogView prefix={prefix} header={<CrashBanner prefix={prefix} />} />;
}
