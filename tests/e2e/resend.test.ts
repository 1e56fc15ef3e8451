// End to end: coordinators resend their own mentors through sync-resend (under RLS, once a minute
// per mentor, audited), the service role recovers dead letters since a time, and sync-status tells
// a coordinator what went wrong in their terms. Functions under real Deno behind the gateway.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createIsolationWorld, type IsolationWorld } from "../support/isolation-world.ts";
import { createListedMentor } from "../support/factories.ts";
import { startTestStack, type TestStack } from "../support/stack.ts";

let t: TestStack;
let world: IsolationWorld<"mentorA1" | "coordA1" | "coordA2" | "coordB1">;
let jwt: Record<"coordA1" | "coordB1", string>;

beforeAll(async () => {
  t = await startTestStack();
  world = await createIsolationWorld(t.db.sql);
  jwt = {
    coordA1: await t.userJwt(world.users.coordA1),
    coordB1: await t.userJwt(world.users.coordB1),
  };
  await sweep();
});
afterAll(async () => {
  await t?.close();
});

async function sweep() {
  const { error } = await t.client().functions.invoke("sync-retry", { body: {} });
  if (error) throw error;
}

async function call(path: string, token: string, body?: unknown, method = "POST") {
  const response = await fetch(`${t.stack.functionsUrl}/${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: response.status, headers: response.headers, body: await response.json() };
}

/** Expires the mentor while the sandbox rejects the removal: the event is dead-lettered. */
async function deadLetterRemoval(mentorId: string): Promise<string> {
  await t.sandbox.faults({ kind: "status", status: 400, count: 1 });
  await t.db.sql`update public.certifications set status = 'expired' where mentor_id = ${mentorId}`;
  await sweep();
  const [event] = await t.db.sql<{ event_id: string; state: string }[]>`
    select event_id, state from public.sync_events
    where mentor_id = ${mentorId} order by id desc limit 1`;
  expect(event.state).toBe("failed");
  return event.event_id;
}

describe("sync-resend by a coordinator", () => {
  it("delivers a dead-lettered mentor of their chapter, 404s another organisation, 429s a repeat", async () => {
    const mentorId = world.mentors.onlyA1;
    const deadLetter = await deadLetterRemoval(mentorId);

    const status = await call(`sync-status?mentorId=${mentorId}`, jwt.coordA1, undefined, "GET");
    expect(status.body).toMatchObject({
      state: "failed",
      errorCode: "dynamics_rejected",
      summary:
        "HLF Dynamics rejected the update; gave up after 1 attempt. A coordinator can resend it.",
    });
    expect(status.body.lastError).toMatch(/^http_400: /);

    const foreign = await call("sync-resend", jwt.coordB1, { mentorId });
    expect(foreign.status).toBe(404);
    expect(foreign.body.error.code).toBe("mentor_not_found");

    const first = await call("sync-resend", jwt.coordA1, { mentorId });
    expect(first.status).toBe(202);
    expect(first.body).toMatchObject({
      mentorId,
      eventType: "certification.expired",
      state: "delivered",
      attempts: 1,
    });
    expect(first.body.eventId).not.toBe(deadLetter);
    expect((await t.sandbox.listing(mentorId))?.listing).toBe("unlisted");
    const after = await call(`sync-status?mentorId=${mentorId}`, jwt.coordA1, undefined, "GET");
    expect(after.body).toMatchObject({
      state: "synced",
      errorCode: null,
      summary: "Up to date in HLF Dynamics.",
    });

    const again = await call("sync-resend", jwt.coordA1, { mentorId });
    expect(again.status).toBe(429);
    expect(again.body.error.code).toBe("rate_limited");
    const retryAfter = Number(again.headers.get("retry-after"));
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(60);

    // Audited: who asked, what was granted; the foreign coordinator's 404 left no row.
    const audit = await t.db.sql`
      select requested_by, requester_role, kind, outcome, event_id from public.sync_resend_requests
      where mentor_id = ${mentorId} order by id`;
    expect(audit).toEqual([
      {
        requested_by: world.users.coordA1,
        requester_role: "authenticated",
        kind: "resend",
        outcome: "accepted",
        event_id: first.body.eventId,
      },
      {
        requested_by: world.users.coordA1,
        requester_role: "authenticated",
        kind: "resend",
        outcome: "rate_limited",
        event_id: null,
      },
    ]);
  });

  it("refuses anon and checks the body", async () => {
    expect((await call("sync-resend", t.stack.anonKey, { mentorId: world.mentors.onlyA2 })).status)
      .toBe(403);
    const bad = await call("sync-resend", jwt.coordA1, { mentorId: "not-a-uuid" });
    expect(bad.status).toBe(400);
    const both = await call("sync-resend", jwt.coordA1, {
      mentorId: world.mentors.onlyA2,
      failedSince: "2026-11-01T00:00:00Z",
    });
    expect(both.status).toBe(400);
  });
});

describe("sync-resend recovery by the service role", () => {
  it("re-queues dead letters since a time, never one a newer delivered event made moot", async () => {
    const since = new Date(Date.now() - 1000).toISOString();
    const { mentorId: stranded } = await createListedMentor(t.db.sql);
    const { mentorId: moot } = await createListedMentor(t.db.sql);
    await sweep();
    const deadLetter = await deadLetterRemoval(stranded);
    // A renewal dead-lettered although the mentor's newer expiry was delivered: resending it would
    // list an uncertified mentor.
    await t.db.sql`update public.certifications set status = 'expired' where mentor_id = ${moot}`;
    await sweep();
    const [renewal] = await t.db.sql<{ event_id: string }[]>`
      update public.sync_events set state = 'failed', updated_at = now()
      where mentor_id = ${moot} and event_type = 'certification.renewed' returning event_id`;

    expect((await call("sync-resend", jwt.coordA1, { failedSince: since })).status).toBe(403);

    const recovered = await call("sync-resend", t.stack.serviceRoleKey, { failedSince: since });
    expect(recovered.status).toBe(202);
    expect(recovered.body).toMatchObject({ recovered: 1, delivered: 1, failed: 0 });
    const states = await t.db.sql<{ event_id: string; state: string }[]>`
      select event_id, state from public.sync_events
      where event_id in (${deadLetter}, ${renewal.event_id}) order by id`;
    expect(Object.fromEntries(states.map((s) => [s.event_id, s.state]))).toEqual({
      [deadLetter]: "delivered",
      [renewal.event_id]: "failed",
    });
    expect((await t.sandbox.listing(stranded))?.listing).toBe("unlisted");
    expect((await t.sandbox.listing(moot))?.listing).toBe("unlisted");
    const audit = await t.db.sql`
      select mentor_id, requested_by, requester_role, kind, event_id
      from public.sync_resend_requests where kind = 'recover'`;
    expect(audit).toEqual([{
      mentor_id: stranded,
      requested_by: null,
      requester_role: "service_role",
      kind: "recover",
      event_id: deadLetter,
    }]);
  });
});
