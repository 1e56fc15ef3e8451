// The sandbox's callback POST (node:http, kept-alive sockets): what it sends, what it answers, and
// that a target which never answers or a stopping sandbox ends the attempt instead of hanging it.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { createHttpPost } from "../../local/dynamics-sandbox/http-post.ts";

let server: Server;
let url: string;
const sockets = new Set<Socket>();
let handle: (req: IncomingMessage, body: string, res: ServerResponse) => void;

beforeAll(async () => {
  server = createServer((req, res) => {
    let body = "";
    req.on("data", (c) => (body += c));
    req.on("end", () => handle(req, body, res));
  });
  server.on("connection", (socket: Socket) => sockets.add(socket));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/functions/v1/dynamics-webhook`;
});

afterAll(async () => {
  for (const socket of sockets) socket.destroy();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

const http = createHttpPost();
afterEach(() => sockets.clear());
afterAll(() => http.close());

const options = (signal = new AbortController().signal) => ({
  headers: { "content-type": "application/json", "webhook-id": "msg_1" },
  body: JSON.stringify({ eventType: "listing.confirmed", note: "é" }),
  timeoutMs: 2_000,
  signal,
});

describe("the sandbox's callback POST", () => {
  it("sends method, path, headers and the whole body, and answers the status", async () => {
    const seen: {
      method?: string;
      path?: string;
      headers: IncomingMessage["headers"];
      body: string;
    }[] = [];
    handle = (req, body, res) => {
      seen.push({ method: req.method, path: req.url, headers: req.headers, body });
      res.writeHead(202).end("accepted");
    };
    expect(await http.post(url, options())).toBe(202);
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatchObject({
      method: "POST",
      path: "/functions/v1/dynamics-webhook",
      body: options().body,
    });
    expect(seen[0].headers).toMatchObject({
      "content-type": "application/json",
      "webhook-id": "msg_1",
      "content-length": String(Buffer.byteLength(options().body)),
    });
  });

  it("answers a refusal's status rather than throwing", async () => {
    handle = (_req, _body, res) => res.writeHead(500).end("boom");
    expect(await http.post(url, options())).toBe(500);
  });

  it("keeps its socket alive between callbacks", async () => {
    handle = (_req, _body, res) => res.writeHead(200).end();
    for (let i = 0; i < 3; i++) expect(await http.post(url, options())).toBe(200);
    expect(sockets.size).toBeLessThanOrEqual(1);
  });

  it("fails an attempt nobody answers within its timeout", async () => {
    handle = () => {}; // never answers
    await expect(http.post(url, { ...options(), timeoutMs: 100 })).rejects.toThrow(
      /no answer within 100 ms/,
    );
  });

  it("fails an attempt when the sandbox stops", async () => {
    handle = () => {};
    const stopping = new AbortController();
    const attempt = http.post(url, options(stopping.signal));
    stopping.abort();
    await expect(attempt).rejects.toThrow();
  });

  it("fails when nothing listens", async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, "127.0.0.1", resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    await expect(http.post(`http://127.0.0.1:${port}/`, options())).rejects.toThrow(/ECONNREFUSED/);
  });
});
