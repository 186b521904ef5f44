// Where each message on the device's connection goes: to a terminal session, to the command
// dispatcher, or to the application modules' handlers. Commands are counted while they run,
// so a sleeper stays awake for them; the device's own watchdog feed is not work.
import type { MqttClient } from 'mqtt';
import { parseCommandTopic, WATCHDOG_ID } from '../../protocol/src';
import type { Dispatcher } from './dispatch';
import { errorMessage } from './errors';
import type { Logger } from './log';
import type { ModuleHooks } from './modules';
import type { TerminalServer } from './terminal';

export interface MessageRoutes {
  client: MqttClient;
  prefix: string;
  terminals: TerminalServer;
  dispatcher: Dispatcher;
  hooks: ModuleHooks;
  appLog: Logger;
  /** Work arrived or ended. */
  activity(): void;
}

/** Takes over the client's incoming messages; returns how many commands are being handled now. */
export function routeMessages(o: MessageRoutes): { inFlight(): number } {
  let inFlight = 0;
  o.client.handleMessage = (packet, done) => {
    const payload = typeof packet.payload === 'string' ? Buffer.from(packet.payload) : packet.payload;
    if (o.terminals.handles(packet.topic)) {
      o.activity();
      // Released first: an evaluation may run long, and must not hold the packet pipeline.
      done();
      o.terminals.onMessage(packet.topic, payload);
      return;
    }
    const addr = parseCommandTopic(o.prefix, packet.topic);
    if (addr) {
      // The device's own watchdog feed is not work: it must not keep a sleeper awake.
      const work = addr.id !== WATCHDOG_ID;
      if (work) {
        inFlight++;
        o.activity();
      }
      o.dispatcher
        .onMessage(packet.topic, payload, packet.dup === true)
        .catch(() => undefined) // onMessage handles its own errors; a bad message never stops the pipeline
        .finally(() => {
          if (work) {
            inFlight--;
            o.activity();
          }
          done();
        });
      return;
    }
    // Module handlers run without holding up the pipeline; their failures are theirs.
    for (const h of o.hooks.messageHandlers) {
      try {
        void Promise.resolve(h(packet.topic, payload, packet.retain, packet.qos, packet.dup)).catch((e: unknown) => o.appLog.error(`message handler: ${errorMessage(e)}`));
      } catch (e) {
        o.appLog.error(`message handler: ${errorMessage(e)}`);
      }
    }
    done();
  };
  return { inFlight: () => inFlight };
}
