// A loopback TCP proxy in front of a test database, for tests that make a connection misbehave the
// way a dying backend or a vanished network does. The server's bytes reach the client unchanged;
// each chunk the client sends goes to `onClientData`, which says whether to pass it on (and may act
// on the link itself: answer the client, cut the connection).
import { once } from "node:events";
import { createServer, Socket } from "node:net";

export interface ProxyLink {
  /** 0 for the first connection through the proxy, then 1, 2, ... */
  index: number;
  client: Socket;
  server: Socket;
}

export interface DbProxy {
  /** `databaseUrl` with its host and port replaced by the proxy's. */
  url: string;
  /** Connections through the proxy so far: the next one's `index`. */
  readonly connections: number;
  /** Cuts every connection through the proxy and stops listening. */
  close(): Promise<void>;
}

export async function startDbProxy(
  databaseUrl: string,
  onClientData: (chunk: Buffer, link: ProxyLink) => boolean,
): Promise<DbProxy> {
  const target = new URL(databaseUrl);
  const sockets = new Set<Socket>();
  let connections = 0;
  const proxy = createServer((client) => {
    const server = new Socket().connect(Number(target.port || 5432), target.hostname);
    const link = { index: connections++, client, server };
    sockets.add(client).add(server);
    const drop = () => {
      client.destroy();
      server.destroy();
    };
    for (const s of [client, server]) {
      s.on("error", drop);
      s.on("close", drop);
    }
    server.on("data", (chunk) => client.write(chunk));
    client.on("data", (chunk: Buffer) => {
      if (onClientData(chunk, link)) server.write(chunk);
    });
  });
  proxy.listen(0, "127.0.0.1");
  await once(proxy, "listening");
  const via = new URL(databaseUrl);
  via.host = `127.0.0.1:${(proxy.address() as { port: number }).port}`;
  return {
    url: via.toString(),
    get connections() {
      return connections;
    },
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise((resolve) => proxy.close(resolve));
    },
  };
}
