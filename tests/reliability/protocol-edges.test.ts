// Issue 16, item 3: the protocol edges an outsider reaches first. Through the local gateway (real
// Deno, raw HTTP/1.1 so that any method can be sent): no method on any path gives a 5xx or logs a
// stack trace; a known function path with the wrong method answers 405 with `Allow`; the webhook
// refuses a body that is not application/json with 415 and writes nothing; a stalled upload is cut
// off with 408. (A stalled header block is not: Deno.serve has no header timeout, denoland/deno#3515.) In-process: a flood of
// 3,000 badly signed webhooks writes a bounded number of log lines, and so do 30 duplicates.
import { connect } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApp as dynamicsWebhookApp } from "../../functions/dynamics-webhook/app.ts";
import { useTestDatabase } from "../support/db.ts";
import { inProcessRuntime, signedDelivery, writeCounts } from "../support/inbound-delivery.ts";
import { listingConfirmed } from "../support/payload-factory.ts";
import { startTestStack, type TestStack } from "../support/stack.ts";

interface RawResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/**
 * One HTTP/1.1 request over a fresh socket, with any method token; the response ends at the
 * connection's end or, when it declares a Content-Length, once that many bytes arrived.
 */
function rawRequest(
  port: number,
  method: string,
  path: string,
  headers: Record<string, string> = {},
  body = "",
): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, "127.0.0.1");
    const chunks: Buffer[] = [];
    const complete = () => {
      const text = Buffer.concat(chunks).toString("utf8");
      const end = text.indexOf("\r\n\r\n");
      const length = /\r\ncontent-length: *(\d+)/i.exec(text.slice(0, end));
      return end >= 0 && length !== null &&
        Buffer.byteLength(text.slice(end + 4)) >= Number(length[1]);
    };
    socket.on("data", (c) => {
      // Always a Buffer here (no setEncoding); the type also allows a string.
      chunks.push(typeof c === "string" ? Buffer.from(c) : c);
      if (complete()) socket.destroy();
    });
    socket.on("error", reject);
    socket.on("close", () => {
      const text = Buffer.concat(chunks).toString("utf8");
      const [head, ...rest] = text.split("\r\n\r\n");
      const [statusLine, ...lines] = head.split("\r\n");
      resolve({
        status: Number(statusLine.split(" ")[1]),
        headers: Object.fromEntries(lines.map((l) => {
          const i = l.indexOf(":");
          return [l.slice(0, i).toLowerCase(), l.slice(i + 1).trim()];
        })),
        body: rest.join("\r\n\r\n"),
      });
    });
    const all: Record<string, string> = { host: "127.0.0.1", connection: "close", ...headers };
    if (body && !("content-length" in all)) all["content-length"] = String(Buffer.byteLength(body));
    socket.write(
      `${method} ${path} HTTP/1.1\r\n` +
        Object.entries(all).map(([k, v]) => `${k}: ${v}\r\n`).join("") + "\r\n" + body,
    );
  });
}

const FUNCTION_METHODS: Record<string, string[]> = {
  "certification-expired": ["POST", "OPTIONS"],
  "certification-renewed": ["POST", "OPTIONS"],
  "dynamics-webhook": ["POST", "OPTIONS"],
  "sync-retry": ["POST", "OPTIONS"],
  "sync-status": ["GET", "POST", "HEAD", "OPTIONS"],
};

const METHODS = [
  "GET",
  "HEAD",
  "POST",
  "PUT",
  "PATCH",
  "DELETE",
  "OPTIONS",
  "TRACE",
  "TRACK",
  "PROPFIND",
  "FOO",
];
const PATHS = [
  "/",
  "/functions/v1",
  "/functions/v1/",
  "/functions/v1/nope",
  "/functions/v1/sync-status/deeper/path",
  "/functions/v1/%2e%2e/etc/passwd",
  ...Object.keys(FUNCTION_METHODS).map((f) => `/functions/v1/${f}`),
];

describe("through the gateway", () => {
  let t: TestStack;
  let port: number;
  let auth: Record<string, string>;

  beforeAll(async () => {
    t = await startTestStack();
    port = Number(new URL(t.stack.gatewayUrl).port);
    auth = { authorization: `Bearer ${t.stack.serviceRoleKey}` };
  });
  afterAll(async () => {
    await t?.close();
  });

  it("no method on any path answers 5xx or logs a stack trace (TRACE and TRACK included)", async () => {
    const serverErrors: string[] = [];
    for (const method of METHODS) {
      for (const path of PATHS) {
        for (const headers of [{}, auth]) {
          const res = await rawRequest(port, method, path, headers);
          if (!(res.status >= 200 && res.status < 500)) {
            serverErrors.push(`${method} ${path}: ${res.status}`);
          }
        }
      }
    }
    expect(serverErrors).toEqual([]);
    const traces = t.lines.filter((l) => /\bat .*\.(ts|js):\d+|file:\/\/|\/work\//.test(l));
    expect(traces).toEqual([]);
    expect(t.lines.filter((l) => /"level":"error"/.test(l))).toEqual([]);
  });

  it("TRACE and TRACK answer 405 with Allow, echoing nothing", async () => {
    for (const method of ["TRACE", "TRACK"]) {
      const res = await rawRequest(port, method, "/functions/v1/sync-status", {
        ...auth,
        "x-secret-probe": "echo-me",
      });
      expect(res.status).toBe(405);
      expect(res.headers.allow).toMatch(/GET/);
      expect(res.body).not.toContain("echo-me");
    }
  });

  it("a function's path with a method it does not serve answers 405 with Allow", async () => {
    const wrong: Record<string, { status: number; allow: string; code: string }> = {};
    const expected: typeof wrong = {};
    for (const [fn, allowed] of Object.entries(FUNCTION_METHODS)) {
      for (const method of ["GET", "PUT", "PATCH", "DELETE"].filter((m) => !allowed.includes(m))) {
        const res = await rawRequest(port, method, `/functions/v1/${fn}`, auth);
        wrong[`${method} ${fn}`] = {
          status: res.status,
          allow: res.headers.allow,
          code: JSON.parse(res.body).error.code,
        };
        expected[`${method} ${fn}`] = {
          status: 405,
          allow: allowed.join(", "),
          code: "method_not_allowed",
        };
      }
    }
    expect(wrong).toEqual(expected);
  });

  it("the webhook refuses a body that is not application/json with 415 and writes nothing", async () => {
    const before = await writeCounts(t.db.sql);
    const body = JSON.stringify(listingConfirmed());
    for (const type of ["text/plain", "application/x-www-form-urlencoded", undefined]) {
      const res = await rawRequest(
        port,
        "POST",
        "/functions/v1/dynamics-webhook",
        type ? { "content-type": type } : {},
        body,
      );
      expect(res.status).toBe(415);
      expect(JSON.parse(res.body).error.code).toBe("unsupported_media_type");
    }
    expect(await writeCounts(t.db.sql)).toEqual(before);
  });
});

describe("a stalled upload through the gateway", () => {
  let t: TestStack;
  beforeAll(async () => {
    t = await startTestStack({ env: { GATEWAY_BODY_TIMEOUT_MS: "300" } });
  });
  afterAll(async () => {
    await t?.close();
  });

  it("is answered 408 once the body deadline passes, writing nothing", async () => {
    const before = await writeCounts(t.db.sql);
    const port = Number(new URL(t.stack.gatewayUrl).port);
    for (const fn of ["dynamics-webhook", "sync-retry"]) {
      // 100 bytes declared, 3 sent, then silence: the answer (and the connection's end) must come.
      const res = await rawRequest(port, "POST", `/functions/v1/${fn}`, {
        authorization: `Bearer ${t.stack.serviceRoleKey}`,
        "content-type": "application/json",
        "content-length": "100",
      }, '{"a');
      expect({ fn, status: res.status, code: JSON.parse(res.body).error.code })
        .toEqual({ fn, status: 408, code: "request_timeout" });
    }
    expect(await writeCounts(t.db.sql)).toEqual(before);
    expect(t.lines.filter((l) => /"level":"error"/.test(l))).toEqual([]);
  });
});

describe("floods an outsider or Dynamics can send (in-process)", () => {
  const db = useTestDatabase();

  it("3,000 bad signatures write a bounded number of log lines, then one summary", async () => {
    const { runtime, lines } = inProcessRuntime(db());
    let now = Date.now();
    const app = dynamicsWebhookApp(runtime, () => now);
    const body = JSON.stringify(listingConfirmed());
    const statuses = new Set<number>();
    for (let i = 0; i < 3000; i++) {
      const res = await app.request("/dynamics-webhook", {
        method: "POST",
        headers: {
          "content-type": "application/json",
          "x-hlf-signature": `sha256=${"0".repeat(64)}`,
        },
        body,
      });
      statuses.add(res.status);
    }
    expect([...statuses]).toEqual([401]);
    const rejected = () =>
      lines.map((l) => JSON.parse(l)).filter((l) => /inbound reject/.test(l.msg));
    expect(rejected()).toHaveLength(20);
    // The next window: its first rejection closes the last one with a summary of the other 2,980.
    now += 10_000;
    await app.request("/dynamics-webhook", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body,
    });
    const summary = rejected().filter((l) => l.msg === "inbound rejections suppressed");
    expect(summary).toHaveLength(1);
    expect(summary[0].suppressed).toBe(2980);
    expect(rejected()).toHaveLength(22);
  });

  it("the first 20 duplicates in 10 s are logged one by one, the rest in one summary", async () => {
    const { runtime, lines } = inProcessRuntime(db());
    let now = Date.now();
    const app = dynamicsWebhookApp(runtime, () => now);
    const delivery = await signedDelivery(listingConfirmed());
    const verdicts: string[] = [];
    for (let i = 0; i < 31; i++) {
      const res = await app.request("/dynamics-webhook", delivery);
      verdicts.push((await res.json()).status);
    }
    expect(verdicts).toEqual(["accepted", ...Array(30).fill("duplicate")]);
    const logged = () =>
      lines.map((l) => JSON.parse(l)).filter((l) => /^inbound (delivery|duplicates)/.test(l.msg));
    // The accepted one is in the ledger and writes no line at info.
    expect(logged()).toHaveLength(20);
    expect(logged().every((l) => l.status === "duplicate" && l.level === "info")).toBe(true);
    // The verdict is the line's `status`, as on an accepted delivery's debug line, and only there.
    expect(logged().filter((l) => "reason" in l)).toEqual([]);
    // The next window's first duplicate closes the last one with the count of the other 10.
    now += 10_000;
    await app.request("/dynamics-webhook", delivery);
    const summary = logged().filter((l) => l.msg === "inbound duplicates suppressed");
    expect(summary).toMatchObject([{ level: "info", suppressed: 10, suppressed_duplicate: 10 }]);
    expect(logged()).toHaveLength(22);
  });
});
