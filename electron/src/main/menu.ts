// The application menu: the usual edit/view/window entries plus "Simulate", which starts
// devices from the bundled device runtime on the current broker.
import { app, dialog, Menu, type MenuItemConstructorOptions } from 'electron';
import type { AppHost } from '../app/app-host';

export function installMenu(host: AppHost): void {
  let n = 0;
  const simulate = (count: number) => async () => {
    n++;
    try {
      const prefixes = await host.startSimulator(`sim/${process.pid}-${n}`, count);
      void dialog.showMessageBox({ type: 'info', message: `Started ${prefixes.length} simulated device${prefixes.length === 1 ? '' : 's'}`, detail: prefixes.slice(0, 5).join('\n') + (prefixes.length > 5 ? '\n…' : '') });
    } catch (e) {
      dialog.showErrorBox('Could not start simulated devices', e instanceof Error ? e.message : String(e));
    }
  };
  const template: MenuItemConstructorOptions[] = [
    ...(process.platform === 'darwin' ? [{ role: 'appMenu' as const }] : []),
    { role: 'fileMenu' },
    { role: 'editMenu' },
    {
      label: 'Simulate',
      submenu: [
        { label: 'Start a simulated device', click: simulate(1) },
        { label: 'Start a simulated fleet (10 devices)', click: simulate(10) },
        { label: 'Start a simulated fleet (100 devices)', click: simulate(100) },
      ],
    },
    { role: 'viewMenu' },
    { role: 'windowMenu' },
    { role: 'help', submenu: [{ label: `MQBoard ${app.getVersion()}`, enabled: false }] },
  ];
  Menu.setApplicationMenu(Menu.buildFromTemplate(template));
}
