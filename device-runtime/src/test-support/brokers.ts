// The brokers every device-runtime integration suite runs against: the embedded aedes always,
// a real Mosquitto (stock queue limits) when installed — skipped with the reason in the suite
// name otherwise, so a missing binary is visible in the test report.
import { mosquittoMissingReason, startEmbeddedBroker, startMosquitto } from '../../../testing/brokers';

export interface TestBroker {
  url: string;
  stop(): Promise<void>;
  /** Stops the broker and starts it again on the same port (Mosquitto only). */
  restart?: (downMs?: number) => Promise<void>;
}

export interface BrokerKind {
  name: string;
  skip: string | undefined;
  start(): Promise<TestBroker>;
}

export const BROKERS: BrokerKind[] = [
  {
    name: 'aedes',
    skip: undefined,
    async start() {
      const b = await startEmbeddedBroker();
      return { url: b.url, stop: () => b.close() };
    },
  },
  {
    name: mosquittoMissingReason ? `mosquitto (SKIPPED: ${mosquittoMissingReason})` : 'mosquitto',
    skip: mosquittoMissingReason,
    async start() {
      const m = await startMosquitto();
      return { url: m.url, stop: () => m.stop(), restart: (ms) => m.restart(ms) };
    },
  },
];
