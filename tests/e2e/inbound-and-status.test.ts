// End to end: inbound webhooks from Dynamics and the sync-status queries, over real HTTP through
// the gateway with the functions under Deno.
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SyncStatusPage } from "../../shared/contract/api.ts";
import { signatureHeaders } from "../../shared/contract/signer.ts";
import {
  createChapter,
  createCoordinator,
  createListedMentor,
  createOrganisation,
} from "../support/factories.ts";
import { listingChanged, listingConfirmed } from "../support/payload-factory.ts";
import { startTestStack, type TestStack } from "../support/stack.ts";

let t: TestStack;
let secret: string;

beforeAll(async () => {
  t = await startTestStack({ env: { WEBHOOK_MAX_BODY_BYTES: "4096" } });
  secret = t.stack.config.inbound.secrets![0];
});
afterAll(async () => {
  await t?.close();
});

const webhookUrl = () => `${t.stack.functionsUrl}/dynamics-webhook`;

async function post(body: string, headers: Record<string, string>): Promise<Response> {
  return await fetch(webhookUrl(), {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body,
  });
}

async function signed(body: string, id = randomUUID()) {
  return await signatureHeaders({
    id,
    body,
    secret,
    timestampSeconds: Math.floor(Date.now() / 1000),
  });
}

async function ledgerCount(): Promise<number> {
  const [row] = await t.db.sql<
    { n: number }[]
  >`select count(*)::int as n from public.cert_notification_log`;
  return row.n;
}

/** One sync-retry sweep, done once the portal's listing.confirmed callbacks have been answered:
 * a callback still in flight would land in a later test's ledger count. */
async function sweep() {
  const { error } = await t.client().functions.invoke("sync-retry", { body: {} });
  if (error) throw error;
  await t.stack.sandbox!.idle();
}

describe("dynamics-webhook", () => {
  it("accepts a signed listing.confirmed, logs it once, and answers a replay as duplicate", async () => {
    const { mentorId } = await createListedMentor(t.db.sql);
    await sweep();
    const [event] = await t.db
      .sql`select event_id from public.sync_events where mentor_id = ${mentorId}`;
    const body = JSON.stringify(
      listingConfirmed({ mentorId, inReplyTo: event.event_id, listing: "listed" }),
    );
    const headers = await signed(body);

    const first = await post(body, headers);
    expect(first.status).toBe(200);
    expect(await first.json()).toMatchObject({ status: "accepted" });
    const again = await post(body, headers);
    expect(again.status).toBe(200);
    expect(await again.json()).toMatchObject({ status: "duplicate" });

    const rows = await t.db.sql`
      select status from public.cert_notification_log where event_id = ${JSON.parse(body).eventId}`;
    expect(rows).toEqual([{ status: "applied" }]);
    const [confirmed] = await t.db.sql`
      select confirmed_at is not null as confirmed from public.sync_events where event_id = ${event.event_id}`;
    expect(confirmed.confirmed).toBe(true);
    const deliveryLines = t.lines.filter((l) => l.includes('"msg":"inbound delivery"'));
    expect(deliveryLines.some((l) => l.includes('"status":"duplicate"'))).toBe(true);
    // Accepted deliveries are in the ledger; at LOG_LEVEL=info they write no line.
    expect(deliveryLines.filter((l) => l.includes('"status":"accepted"'))).toEqual([]);
  });

  it("accepts what real senders send: Svix header names, a Dataverse GUID, 7-digit fractions", async () => {
    const { mentorId } = await createListedMentor(t.db.sql);
    const eventId = "7C4A6D2F-2E6B-EC11-8F8F-000D3A4B1C2D";
    const body = JSON.stringify(
      listingChanged({
        eventId,
        mentorId,
        listing: "listed",
        occurredAt: "2026-11-23T10:30:00.1234567+02:00",
      }),
    );
    const svix = Object.fromEntries(
      Object.entries(await signed(body)).flatMap(([name, value]) =>
        name.startsWith("webhook-") ? [[name.replace("webhook-", "svix-"), value]] : []
      ),
    );
    const bad = { ...svix, "svix-signature": (await signed(body + " "))["webhook-signature"] };
    const before = await ledgerCount();
    expect((await post(body, bad)).status).toBe(401);
    expect(await ledgerCount()).toBe(before);

    const response = await post(body, svix);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ status: "accepted", eventId: eventId.toLowerCase() });
    const [row] = await t.db.sql`
      select signature_scheme, payload from public.cert_notification_log
       where event_id = ${eventId.toLowerCase()}`;
    expect(row.signature_scheme).toBe("standard-webhooks");
    expect(row.payload.occurredAt).toBe("2026-11-23T08:30:00.123Z");
  });

  it("raises drift and queues a corrective event when the portal contradicts the mentor's state", async () => {
    const { mentorId } = await createListedMentor(t.db.sql);
    await sweep();
    const body = JSON.stringify(
      listingChanged({ mentorId, listing: "unlisted", changedBy: "portal-admin" }),
    );
    const res = await post(body, await signed(body));
    expect(res.status).toBe(200);
    const issues = await t.db
      .sql`select kind from public.sync_issues where mentor_id = ${mentorId}`;
    expect(issues).toEqual([{ kind: "drift" }]);
    await sweep();
    const applied = (await t.sandbox.events()).filter((e) => e.mentorId === mentorId);
    expect(applied.map((e) => e.eventType)).toEqual([
      "certification.renewed",
      "certification.renewed",
    ]);
  });

  it.each([
    ["no signature", (_b: string) => Promise.resolve({}), 401, "missing_signature"],
    [
      "a wrong secret",
      (b: string) =>
        signatureHeaders({
          id: randomUUID(),
          body: b,
          secret: "not-the-secret",
          timestampSeconds: Math.floor(Date.now() / 1000),
        }),
      401,
      "signature_mismatch",
    ],
    ["a signature for another body", (_b: string) => signed("{}"), 401, "signature_mismatch"],
    [
      "a stale timestamp",
      (b: string) =>
        signatureHeaders({
          id: randomUUID(),
          body: b,
          secret,
          timestampSeconds: Math.floor(Date.now() / 1000) - 3600,
        }),
      401,
      "timestamp_out_of_tolerance",
    ],
  ])("rejects %s with %i and writes nothing", async (_name, headersFor, status, code) => {
    const { mentorId } = await createListedMentor(t.db.sql);
    const body = JSON.stringify(listingChanged({ mentorId, listing: "unlisted" }));
    const before = await ledgerCount();
    const res = await post(body, await headersFor(body));
    expect(res.status).toBe(status);
    expect((await res.json()).error.code).toBe(code);
    expect(await ledgerCount()).toBe(before);
  });

  it("answers an oversize body with 413 and bad JSON or schema with 400, writing nothing", async () => {
    const before = await ledgerCount();
    const huge = JSON.stringify({ padding: "x".repeat(5000) });
    const tooBig = await post(huge, await signed(huge));
    expect(tooBig.status).toBe(413);
    const broken = "{not json";
    const bad = await post(broken, await signed(broken));
    expect(bad.status).toBe(400);
    expect((await bad.json()).error.code).toBe("invalid_request");
    const wrong = JSON.stringify({ eventType: "listing.changed", schemaVersion: 1 });
    const invalid = await post(wrong, await signed(wrong));
    expect(invalid.status).toBe(400);
    const { error } = await invalid.json();
    expect(error.details.map((i: { path: string }) => i.path)).toContain("eventId");
    expect(await ledgerCount()).toBe(before);
  });
});

describe("sync-status", () => {
  it("answers the coordinator for their mentor, 404 for another organisation's, 401 without a JWT", async () => {
    const org = await createOrganisation(t.db.sql);
    const chapter = await createChapter(t.db.sql, { organisationId: org.id });
    const coordinator = await createCoordinator(t.db.sql, [chapter.id]);
    const otherOrg = await createOrganisation(t.db.sql);
    const otherChapter = await createChapter(t.db.sql, { organisationId: otherOrg.id });
    const own = await createListedMentor(t.db.sql, { chapterIds: [chapter.id] });
    const foreign = await createListedMentor(t.db.sql, { chapterIds: [otherChapter.id] });
    await sweep();
    const asCoordinator = t.client(await t.userJwt(coordinator.id));

    const { data, error } = await asCoordinator.functions.invoke("sync-status", {
      body: { mentorId: own.mentorId },
    });
    expect(error).toBeNull();
    expect(data).toMatchObject({
      mentorId: own.mentorId,
      state: "synced",
      listing: "listed",
      lastEventType: "certification.renewed",
      attempts: expect.any(Number),
      lastError: null,
    });
    expect(Date.parse(data.lastSuccessAt)).not.toBeNaN();

    const byGet = await fetch(`${t.stack.functionsUrl}/sync-status?mentorId=${own.mentorId}`, {
      headers: { authorization: `Bearer ${await t.userJwt(coordinator.id)}` },
    });
    expect(byGet.status).toBe(200);
    expect((await byGet.json()).mentorId).toBe(own.mentorId);

    const foreignRes = await fetch(
      `${t.stack.functionsUrl}/sync-status?mentorId=${foreign.mentorId}`,
      {
        headers: { authorization: `Bearer ${await t.userJwt(coordinator.id)}` },
      },
    );
    expect(foreignRes.status).toBe(404);
    const missing = await fetch(`${t.stack.functionsUrl}/sync-status?mentorId=${randomUUID()}`, {
      headers: { authorization: `Bearer ${await t.userJwt(coordinator.id)}` },
    });
    expect(missing.status).toBe(404);
    expect(await foreignRes.json()).toEqual({
      error: { code: "mentor_not_found", message: `no sync status for mentor ${foreign.mentorId}` },
    });

    const anonymous = await fetch(`${t.stack.functionsUrl}/sync-status?mentorId=${own.mentorId}`);
    expect(anonymous.status).toBe(401);
  });

  it("pages the list mode with an opaque cursor", async () => {
    const org = await createOrganisation(t.db.sql);
    const chapter = await createChapter(t.db.sql, { organisationId: org.id });
    const coordinator = await createCoordinator(t.db.sql, [chapter.id]);
    const mentors = [];
    for (let i = 0; i < 5; i++) {
      mentors.push((await createListedMentor(t.db.sql, { chapterIds: [chapter.id] })).mentorId);
    }
    const jwt = await t.userJwt(coordinator.id);
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const qs = new URLSearchParams({ list: "true", limit: "2", ...(cursor ? { cursor } : {}) });
      const res = await fetch(`${t.stack.functionsUrl}/sync-status?${qs}`, {
        headers: { authorization: `Bearer ${jwt}` },
      });
      expect(res.status).toBe(200);
      const page = SyncStatusPage.parse(await res.json());
      expect(page.items.length).toBeLessThanOrEqual(2);
      seen.push(...page.items.map((i) => i.mentorId));
      cursor = page.nextCursor;
    } while (cursor);
    expect(seen).toEqual([...mentors].sort());
    const bad = await fetch(`${t.stack.functionsUrl}/sync-status?list=true&cursor=garbage`, {
      headers: { authorization: `Bearer ${jwt}` },
    });
    expect(bad.status).toBe(400);
  });

  it("answers CORS preflight for Flutter web without a JWT", async () => {
    const res = await fetch(`${t.stack.functionsUrl}/sync-status`, {
      method: "OPTIONS",
      headers: {
        origin: "http://localhost:8080",
        "access-control-request-method": "POST",
        "access-control-request-headers": "authorization, content-type, apikey, x-client-info",
      },
    });
    expect(res.status).toBe(204);
    expect(res.headers.get("access-control-allow-origin")).toBe("*");
    expect(res.headers.get("access-control-allow-headers")).toContain("authorization");
  });
});
