// A query that never answers must not hold its request until Supabase's wall-clock limit. A loopback
// proxy between a booted dynamics-webhook (bootFunction, as deployed) and the database passes
// everything until it starts swallowing what the function sends: the connection stays open and
// silent, as one whose backend or network vanished without a reset. The function answers 503
// `deadline_exceeded` at REQUEST_DEADLINE_MS, logs it without any secret, and nothing was written:
// Dynamics' retry is applied once the database answers again.
import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as dynamicsWebhook from "../../functions/dynamics-webhook/app.ts";
import { bootFunction, type FetchHandler } from "../../shared/serve.ts";
import { createTestDatabase, type TestDatabase } from "../support/db.ts";
import { type DbProxy, startDbProxy } from "../support/db-proxy.ts";
import { signedHeaders } from "../support/inbound-delivery.ts";
import { listingConfirmed } from "../support/payload-factory.ts";

// Far above a cold first request on a loaded CI machine (connecting, the driver's type query), which
// must be answered in time for the test to mean anything.
const DEADLINE_MS = 5_000;
const SECRET = randomBytes(24).toString("base64url");

let db: TestDatabase;
let proxy: DbProxy;
let swallowing = false;
let handler: FetchHandler;
const lines: string[] = [];

beforeAll(async () => {
  db = await createTestDatabase();
  proxy = await startDbProxy(db.url, () => !swallowing);
  handler = bootFunction(
    { name: "dynamics-webhook", ...dynamicsWebhook },
    {
      SUPABASE_DB_URL: proxy.url,
      DYNAMICS_INBOUND_SECRETS: SECRET,
      REQUEST_DEADLINE_MS: String(DEADLINE_MS),
      DB_POOL_MAX: "1",
    },
    (line) => lines.push(line),
  );
});

afterAll(async () => {
  await proxy?.close();
  await db?.close();
});

async function deliver(eventId: string): Promise<Response> {
  const body = JSON.stringify(listingConfirmed({ eventId }));
  const headers = await signedHeaders(body, { secret: SECRET, id: eventId });
  return handler(
    new Request("http://f/dynamics-webhook", {
      method: "POST",
      body,
      headers: { ...headers, "content-type": "application/json" },
    }),
  );
}

const ledgerRows = async (eventId: string) =>
  (await db.sql`select 1 from public.cert_notification_log where event_id = ${eventId}`).length;

describe("request deadline against a database that stops answering", () => {
  it("answers 503 deadline_exceeded, logs it once without secrets, and writes nothing", async () => {
    // A delivery while the database answers: the connection is open and in use.
    const first = crypto.randomUUID();
    expect((await deliver(first)).status).toBe(200);
    expect(await ledgerRows(first)).toBe(1);

    swallowing = true;
    const second = crypto.randomUUID();
    const res = await deliver(second);
    expect(res.status).toBe(503);
    expect(res.headers.get("retry-after")).toBe("5");
    expect(await res.json()).toEqual({
      error: { code: "deadline_exceeded", message: `no answer within ${DEADLINE_MS} ms; retry` },
    });
    expect(await ledgerRows(second)).toBe(0);

    const deadlineLines = lines.filter((l) => l.includes("request deadline exceeded"));
    expect(deadlineLines.map((l) => JSON.parse(l))).toEqual([
      expect.objectContaining({
        level: "warn",
        function: "dynamics-webhook",
        deadlineMs: DEADLINE_MS,
      }),
    ]);
    expect(lines.join("\n")).not.toContain(SECRET);
  });
});
