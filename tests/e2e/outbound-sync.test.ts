// End to end: certification changes in SQL reach the Dynamics sandbox through the functions running
// under Deno, with the audit log and the sync status telling the truth.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import {
  createChapter,
  createCoordinator,
  createListedMentor,
  createOrganisation,
} from "../support/factories.ts";
import { eventually, startTestStack, type TestStack } from "../support/stack.ts";

let t: TestStack;

beforeAll(async () => {
  t = await startTestStack({ env: { SYNC_MAX_ROUNDS: "3" } });
});
afterAll(async () => {
  await t?.close();
});
beforeEach(async () => {
  await t.sandbox.reset();
});

async function sweep(): Promise<Record<string, number>> {
  const { data, error } = await t.client().functions.invoke("sync-retry", { body: {} });
  if (error) throw error;
  return data;
}

async function chapterWithCoordinator() {
  const org = await createOrganisation(t.db.sql);
  const chapter = await createChapter(t.db.sql, { organisationId: org.id });
  const coordinator = await createCoordinator(t.db.sql, [chapter.id]);
  return { org, chapter, coordinator };
}

async function events(mentorId: string) {
  return await t.db.sql<{ event_type: string; state: string; attempts: number }[]>`
    select event_type, state, attempts from public.sync_events
    where mentor_id = ${mentorId} order by id`;
}

async function attempts(mentorId: string) {
  return await t.db.sql<{ attempt: number; outcome: string; http_status: number | null }[]>`
    select attempt, outcome, http_status from public.dynamics_sync_attempts
    where mentor_id = ${mentorId} order by id`;
}

const expire = (certificationId: string) =>
  t.db.sql`update public.certifications set status = 'expired' where id = ${certificationId}`;
const renew = (certificationId: string) =>
  t.db
    .sql`select public.append_certification_renewal(${certificationId}::uuid, now(), now() + interval '1 year', null)`;

describe("outbound sync", () => {
  it("removes an expired mentor from the portal and reinstates them on renewal", async () => {
    const { chapter } = await chapterWithCoordinator();
    const { mentorId, certificationId } = await createListedMentor(t.db.sql, {
      chapterIds: [chapter.id],
    });
    await sweep(); // the initial listing
    expect((await t.sandbox.listing(mentorId))?.listing).toBe("listed");

    await expire(certificationId);
    const result = await sweep();
    expect(result.delivered).toBe(1);
    expect((await t.sandbox.listing(mentorId))?.listing).toBe("unlisted");
    const [status] = await t.db
      .sql`select state, listing from public.mentor_sync_status where mentor_id = ${mentorId}`;
    expect(status).toEqual({ state: "synced", listing: "unlisted" });
    const rows = await attempts(mentorId);
    expect(rows.map((r) => r.outcome)).toEqual(["delivered", "delivered"]);

    await renew(certificationId);
    await sweep();
    expect((await t.sandbox.listing(mentorId))?.listing).toBe("listed");
    expect((await events(mentorId)).map((e) => [e.event_type, e.state])).toEqual([
      ["certification.renewed", "delivered"],
      ["certification.expired", "delivered"],
      ["certification.renewed", "delivered"],
    ]);
  });

  it("delivers on the fourth attempt after three 503s, auditing all four", async () => {
    const { mentorId, certificationId } = await createListedMentor(t.db.sql);
    await sweep();
    const before = (await t.sandbox.counters()).requests;
    await t.sandbox.faults({ kind: "status", status: 503, count: 3 });
    await expire(certificationId);
    await sweep();
    const [expired] = (await events(mentorId)).slice(-1);
    expect(expired).toMatchObject({
      event_type: "certification.expired",
      state: "delivered",
      attempts: 4,
    });
    const rows = (await attempts(mentorId)).slice(-4);
    expect(rows.map((r) => [r.attempt, r.outcome])).toEqual([
      [1, "retryable"],
      [2, "retryable"],
      [3, "retryable"],
      [4, "delivered"],
    ]);
    expect(rows.slice(0, 3).map((r) => r.http_status)).toEqual([503, 503, 503]);
    expect(rows[3].http_status).toBeGreaterThanOrEqual(200);
    expect(rows[3].http_status).toBeLessThan(300);
    expect((await t.sandbox.counters()).requests - before).toBe(4);
  });

  it("ends listed when an expiry is followed by a renewal before Dynamics was reachable", async () => {
    const { mentorId, certificationId } = await createListedMentor(t.db.sql);
    await sweep();
    await expire(certificationId);
    await renew(certificationId);
    await sweep();
    expect((await events(mentorId)).map((e) => [e.event_type, e.state])).toEqual([
      ["certification.renewed", "delivered"],
      ["certification.expired", "superseded"],
      ["certification.renewed", "delivered"],
    ]);
    expect((await t.sandbox.listing(mentorId))?.listing).toBe("listed");
    const applied = (await t.sandbox.events()).filter((e) => e.mentorId === mentorId);
    expect(applied.map((e) => e.eventType)).toEqual([
      "certification.renewed",
      "certification.renewed",
    ]);
  });

  it("dead-letters after the configured rounds and shows it to the right coordinator only", async () => {
    const { chapter, coordinator } = await chapterWithCoordinator();
    const other = await chapterWithCoordinator();
    const { mentorId, certificationId } = await createListedMentor(t.db.sql, {
      chapterIds: [chapter.id],
    });
    await sweep();
    await t.sandbox.faults({ kind: "status", status: 503, count: 1000 });
    await expire(certificationId);
    const failed = await eventually(async () => {
      await sweep();
      const [e] = (await events(mentorId)).slice(-1);
      return e.state === "failed" ? e : undefined;
    }, { timeoutMs: 20_000, everyMs: 200 });
    // SYNC_MAX_ROUNDS=3 rounds of 1 + DYNAMICS_MAX_RETRIES=3 attempts each.
    expect(failed.attempts).toBe(12);
    expect(
      await t.db
        .sql`select count(*)::int as n from public.dynamics_sync_attempts where mentor_id = ${mentorId} and outcome = 'retryable'`,
    )
      .toEqual([{ n: 12 }]);

    const asCoordinator = t.client(await t.userJwt(coordinator.id));
    const { data: page, error } = await asCoordinator.functions.invoke(
      "sync-status?list=true&state=failed",
      {
        method: "GET",
      },
    );
    expect(error).toBeNull();
    expect(page.items.map((i: { mentorId: string }) => i.mentorId)).toEqual([mentorId]);
    expect(page.items[0]).toMatchObject({ state: "failed", listing: "unlisted", attempts: 12 });
    expect(page.items[0].lastError).toMatch(/http_503/);

    const asOther = t.client(await t.userJwt(other.coordinator.id));
    const { data: otherPage } = await asOther.functions.invoke(
      "sync-status?list=true&state=failed",
      {
        method: "GET",
      },
    );
    expect(otherPage.items).toEqual([]);
    await t.sandbox.reset();

    // A dead letter can be re-queued once Dynamics is back.
    const { data: retried } = await t.client().functions.invoke("sync-retry", {
      body: { requeue: "failed", mentorId },
    });
    expect(retried).toMatchObject({ requeued: 1, delivered: 1 });
    expect((await t.sandbox.listing(mentorId))?.listing).toBe("unlisted");
  });
});
