// A real aedes broker that loses the messages a test names, as a loaded broker does: Mosquitto
// drops QoS 0 messages to a client that falls behind, and any broker loses what it had queued
// for a connection that dies. Tests use it to pin what the host does after such a loss without
// having to create the load that causes it.
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { Aedes } from 'aedes';

export interface ForwardedMessage {
  /** The receiving client's id. */
  clientId: string;
  topic: string;
  payload: Buffer;
  retain: boolean;
}

export interface LossyBroker {
  url: string;
  port: number;
  /** Messages matching `pred` are not delivered (to that client) until `drop` is called again. */
  drop(pred: ((m: ForwardedMessage) => boolean) | undefined): void;
  /** How many messages were dropped so far. */
  dropped(): number;
  close(): Promise<void>;
}

export async function startLossyBroker(): Promise<LossyBroker> {
  const broker = await Aedes.createBroker();
  let pred: ((m: ForwardedMessage) => boolean) | undefined;
  let dropped = 0;
  broker.authorizeForward = (client, packet) => {
    const m: ForwardedMessage = {
      clientId: client?.id ?? '',
      topic: packet.topic,
      payload: Buffer.isBuffer(packet.payload) ? packet.payload : Buffer.from(packet.payload),
      retain: packet.retain === true,
    };
    if (pred?.(m)) {
      dropped++;
      return null;
    }
    return packet;
  };
  const sockets = new Set<net.Socket>();
  const server = net.createServer({ noDelay: true }, (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    broker.handle(socket);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `mqtt://127.0.0.1:${port}`,
    port,
    drop: (p) => (pred = p),
    dropped: () => dropped,
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
      await new Promise<void>((r) => broker.close(() => r()));
    },
  };
}
