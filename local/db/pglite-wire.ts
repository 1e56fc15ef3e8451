// A Postgres wire-protocol server for one PGlite, safe for several clients at once.
//
// PGlite is a single Postgres session. pglite-socket's multiplexer interleaves clients message by
// message, so one client's Bind can land between another's Parse and Execute ("portal does not
// exist", measured with two postgres.js clients). Here each client's messages are grouped up to
// their Sync (or simple Query), a group runs whole, and the session stays with one client while it
// is inside a transaction or between a Flush and its Sync. Clients are thereby serialised, which
// matches what a single-session database can offer; LISTEN/NOTIFY still does not reach clients.
// Upstream: electric-sql/pglite#1046 (pglite-socket interleaves extended-protocol batches across
// connections) and its proposed fix, PR #977 (pin a connection until ReadyForQuery).
//
// The one session also carries session-level settings from client to client: a `SET role` or a
// `SET request.jwt.claim.sub = ...` by one client would make another client's next request run as
// that user (auth.uid() reads those settings). So whenever the session passes to another client,
// that client's messages are preceded by a reset (RESET ALL, ROLE and SESSION AUTHORIZATION: what
// DISCARD ALL resets, minus the prepared statements each postgres.js client caches), and the
// reset's replies are cut from the stream before it reaches the client. Sent in the same call as the
// client's messages because a separate call costs as much as a query (measured: 290 us vs ~30 us).
import type { PGlite } from "@electric-sql/pglite";
import { createServer, type Server, type Socket } from "node:net";

const SSL_REQUEST = 80877103;
const CANCEL_REQUEST = 80877102;
const GSS_REQUEST = 80877104;
const SYNC = 0x53; // 'S'
const QUERY = 0x51; // 'Q'
const FLUSH = 0x48; // 'H'
const TERMINATE = 0x58; // 'X'
const READY_FOR_QUERY = 0x5a; // 'Z'

/** A simple Query message. */
function queryMessage(text: string): Uint8Array {
  const body = Buffer.from(`${text}\0`, "utf8");
  const message = Buffer.alloc(5 + body.length);
  message[0] = QUERY;
  message.writeInt32BE(4 + body.length, 1);
  body.copy(message, 5);
  return new Uint8Array(message);
}

const SESSION_RESET = queryMessage("reset all; reset role; reset session authorization");

/**
 * Passes the backend's replies on, except those of a prefix query: every message up to and
 * including its ReadyForQuery is dropped (whole messages, however the chunks split them).
 */
function skipPrefixReplies(write: (data: Uint8Array) => void): (data: Uint8Array) => void {
  let skipping = true;
  let held = Buffer.alloc(0);
  return (data) => {
    if (!skipping) return write(data);
    held = held.length ? Buffer.concat([held, data]) : Buffer.from(data);
    while (held.length >= 5) {
      const length = held.readInt32BE(1) + 1;
      if (held.length < length) return;
      const type = held[0];
      held = held.subarray(length);
      if (type === READY_FOR_QUERY) {
        skipping = false;
        if (held.length) write(new Uint8Array(held));
        return;
      }
    }
  };
}

interface Group {
  client: Client;
  bytes: Uint8Array;
  /** The group ends at a Sync or Query: nothing of the client's is left half-done. */
  complete: boolean;
  /** The startup message, which the session answers before any reset could be sent. */
  startup: boolean;
}

interface Client {
  socket: Socket;
  buffer: Buffer;
  pending: Buffer[];
  started: boolean;
  closed: boolean;
}

export interface WireServerOptions {
  db: PGlite;
  host?: string;
  port?: number;
  maxConnections?: number;
}

export interface WireServer {
  port: number;
  stop(): Promise<void>;
}

export async function startWireServer(opts: WireServerOptions): Promise<WireServer> {
  const { db } = opts;
  const clients = new Set<Client>();
  const queue: Group[] = [];
  let pinned: Client | null = null;
  /** The client whose messages the session last ran (startup messages aside). */
  let holder: Client | null = null;
  let running = false;

  const pump = async () => {
    if (running) return;
    running = true;
    try {
      for (;;) {
        const index = pinned ? queue.findIndex((g) => g.client === pinned) : 0;
        if (index < 0 || queue.length === 0) break;
        const [group] = queue.splice(index, 1);
        if (group.client.closed) continue;
        // PGlite hands out views of one reused output buffer in its WASM memory, and a socket keeps
        // what it cannot send at once by reference: without the copy a large result (100,000 rows)
        // reached the client overwritten by its later chunks, and the client waited forever.
        const send = (data: Uint8Array) => {
          if (!group.client.closed) group.client.socket.write(Buffer.from(data));
        };
        // Never inside a transaction: the session is pinned to its client until it ends.
        const handOver = !group.startup && holder !== group.client;
        if (!group.startup) holder = group.client;
        const bytes = handOver ? Buffer.concat([SESSION_RESET, group.bytes]) : group.bytes;
        await db.runExclusive(() =>
          db.execProtocolRawStream(new Uint8Array(bytes), {
            onRawData: handOver ? skipPrefixReplies(send) : send,
          })
        );
        pinned = db.isInTransaction() || !group.complete ? group.client : null;
      }
    } finally {
      running = false;
    }
  };

  const enqueue = (client: Client, complete: boolean, startup = false) => {
    const bytes = Buffer.concat(client.pending);
    client.pending = [];
    queue.push({ client, bytes: new Uint8Array(bytes), complete, startup });
    void pump();
  };

  const release = async (client: Client) => {
    if (client.closed) return;
    client.closed = true;
    clients.delete(client);
    for (let i = queue.length - 1; i >= 0; i--) if (queue[i].client === client) queue.splice(i, 1);
    if (pinned === client) {
      // A client that vanished mid-transaction must not leave the shared session inside it.
      while (running) await new Promise((r) => setTimeout(r, 1));
      if (db.isInTransaction()) await db.exec("rollback");
      pinned = null;
      void pump();
    }
  };

  const onData = (client: Client, chunk: Buffer) => {
    client.buffer = client.buffer.length ? Buffer.concat([client.buffer, chunk]) : chunk;
    for (;;) {
      const buf = client.buffer;
      if (!client.started) {
        if (buf.length < 8) return;
        const length = buf.readInt32BE(0);
        const code = buf.readInt32BE(4);
        if (buf.length < length) return;
        client.buffer = buf.subarray(length);
        if (code === SSL_REQUEST || code === GSS_REQUEST) {
          client.socket.write("N");
          continue;
        }
        if (code === CANCEL_REQUEST) {
          client.socket.end();
          return;
        }
        client.started = true;
        client.pending.push(buf.subarray(0, length));
        enqueue(client, true, true);
        continue;
      }
      if (buf.length < 5) return;
      const length = buf.readInt32BE(1) + 1;
      if (buf.length < length) return;
      const type = buf[0];
      const message = buf.subarray(0, length);
      client.buffer = buf.subarray(length);
      if (type === TERMINATE) {
        client.socket.end();
        void release(client);
        return;
      }
      client.pending.push(message);
      if (type === SYNC || type === QUERY) enqueue(client, true);
      else if (type === FLUSH) enqueue(client, false);
    }
  };

  const server: Server = createServer((socket) => {
    if (clients.size >= (opts.maxConnections ?? 32)) {
      socket.end();
      return;
    }
    socket.setNoDelay(true);
    const client: Client = {
      socket,
      buffer: Buffer.alloc(0),
      pending: [],
      started: false,
      closed: false,
    };
    clients.add(client);
    socket.on("data", (chunk: Buffer) => onData(client, chunk));
    socket.on("error", () => void release(client));
    socket.on("close", () => void release(client));
  });

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port ?? 0, opts.host ?? "127.0.0.1", () => resolve());
  });
  const { port } = server.address() as { port: number };

  return {
    port,
    async stop() {
      for (const client of [...clients]) {
        client.socket.destroy();
        await release(client);
      }
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
