// The tabs of a device workspace (details, REPL, logs, files, OTA): a new tab is one entry
// here; each tab is a component given the device prefix, and stays mounted while its device is open
// when `keepAlive` is set (a terminal session must survive switching tabs).
import type { ComponentType } from 'react';
import type { DeviceState } from '../../../protocol/src';
import { DetailsTab } from './DetailsTab';
import { FilesTab } from './files/FilesTab';
import { OtaTab } from './ota/OtaTab';
import { LogsTab } from './logs/LogsTab';
import { ReplTab } from './repl/ReplTab';

export interface WorkspaceTab {
  id: string;
  title: string;
  component: ComponentType<{ prefix: string }>;
  /** Hide the tab for devices that cannot use it. */
  available?: (d: DeviceState) => boolean;
  keepAlive?: boolean;
}

export const WORKSPACE_TABS: WorkspaceTab[] = [
  { id: 'details', title: 'Details', component: DetailsTab },
  // Keep-alive: the terminal session and its scrollback survive switching tabs and devices.
  { id: 'repl', title: 'REPL', component: ReplTab, keepAlive: true },
  // Keep-alive: the view's lines, filter and scroll position survive switching tabs.
  { id: 'logs', title: 'Logs', component: LogsTab, keepAlive: true },
  // Keep-alive: the expanded tree and an open editor (with unsaved text) survive switching.
  { id: 'files', title: 'Files', component: FilesTab, keepAlive: true },
  { id: 'ota', title: 'OTA', component: OtaTab, keepAlive: true },
];
