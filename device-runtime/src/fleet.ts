// N devices in one process, each with its own MQTT connection like real boards:
// prefixes `<prefix>/001…`, roots `<root>/001…`.
import path from 'node:path';
import { startDevice, type DeviceHandle, type StartOptions } from './device';
import { fleetMember } from './options';

export type FleetOptions = StartOptions & {
  count: number;
};

export interface FleetHandle {
  devices: DeviceHandle[];
  stop(): Promise<void>;
  kill(): void;
}

export async function startFleet(opts: FleetOptions): Promise<FleetHandle> {
  if (!Number.isInteger(opts.count) || opts.count < 1 || opts.count > 999) {
    throw new RangeError(`fleet size must be 1..999: ${opts.count}`);
  }
  const settled = await Promise.allSettled(
    Array.from({ length: opts.count }, (_, i) => {
      const member = fleetMember(i + 1);
      const { count: _count, ...one } = opts;
      return startDevice({
        ...one,
        prefix: `${opts.prefix}/${member}`,
        root: path.join(opts.root, member),
        ...(opts.echo ? { echo: (line: string) => opts.echo!(`[${opts.prefix}/${member}] ${line}`) } : {}),
        ...(opts.clientId ? { clientId: `${opts.clientId}/${member}` } : {}),
      });
    }),
  );
  const devices = settled.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
  const failed = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
  if (failed) {
    await Promise.all(devices.map((d) => d.stop()));
    throw failed.reason;
  }
  return {
    devices,
    stop: async () => void (await Promise.all(devices.map((d) => d.stop()))),
    kill: () => devices.forEach((d) => d.kill()),
  };
}
