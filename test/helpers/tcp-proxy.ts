import net from 'node:net';

/**
 * A TCP proxy to a server (the target database), which a test can take away and bring back on the
 * same port: `stop` refuses new connections and cuts the open ones, as an outage of the network or
 * of the server would.
 */
export interface TcpProxy {
  port: number;
  /** Connections cut and refused since the proxy started. */
  readonly cuts: number;
  stop(): Promise<void>;
  start(): Promise<void>;
}

export async function startTcpProxy(target: { host: string; port: number }): Promise<TcpProxy> {
  const open = new Set<net.Socket>();
  let cuts = 0;
  let server: net.Server | undefined;
  let port = 0;
  const listen = () =>
    new Promise<void>((resolve, reject) => {
      const listening = net.createServer((client) => {
        const upstream = net.connect(target);
        open.add(client).add(upstream);
        const close = () => {
          client.destroy();
          upstream.destroy();
          open.delete(client);
          open.delete(upstream);
        };
        client.on('error', close).on('close', close);
        upstream.on('error', close).on('close', close);
        client.pipe(upstream).pipe(client);
      });
      listening.once('error', reject);
      listening.listen(port, '127.0.0.1', () => {
        port = (listening.address() as net.AddressInfo).port;
        server = listening;
        resolve();
      });
    });
  await listen();
  return {
    get port() {
      return port;
    },
    get cuts() {
      return cuts;
    },
    stop: async () => {
      const stopping = server;
      server = undefined;
      if (!stopping) return;
      const closed = new Promise<void>((resolve) => stopping.close(() => resolve()));
      cuts += open.size / 2;
      for (const socket of open) socket.destroy();
      open.clear();
      await closed;
    },
    start: async () => {
      if (!server) await listen();
    },
  };
}
