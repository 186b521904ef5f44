// A TCP proxy between a client and a broker that can stop passing the broker's bytes on while
// the connection stays open: the client sees a live socket whose broker never answers, as with
// a broker too loaded to send the PUBACK of a publish it dropped. It can also cut the client off
// and keep it off for a while, as a network drop between one client and the broker does, while
// every other client of the broker goes on.
import net from 'node:net';

export interface StallProxy {
  url: string;
  /** From now on, nothing the broker sends reaches the client (the sockets stay open). */
  stall(): void;
  /** Closes every connection through the proxy and refuses new ones until `restore`. */
  cut(): void;
  restore(): void;
  close(): Promise<void>;
}

export async function startStallProxy(targetPort: number): Promise<StallProxy> {
  let stalled = false;
  let refusing = false;
  const sockets = new Set<net.Socket>();
  const server = net.createServer({ noDelay: true }, (client) => {
    if (refusing) {
      client.destroy();
      return;
    }
    const upstream = net.connect({ port: targetPort, host: '127.0.0.1', noDelay: true });
    sockets.add(client).add(upstream);
    const drop = () => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    client.on('error', drop).on('close', drop);
    upstream.on('error', drop).on('close', drop);
    client.pipe(upstream);
    upstream.on('data', (d: Buffer) => {
      if (!stalled) client.write(d);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as net.AddressInfo;
  return {
    url: `mqtt://127.0.0.1:${port}`,
    stall: () => (stalled = true),
    cut: () => {
      refusing = true;
      for (const s of sockets) s.destroy();
    },
    restore: () => (refusing = false),
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
}
