import { randomUUID } from "node:crypto";
import type postgres from "postgres";
import { describe, expect, it } from "vitest";
import { useTestDatabase } from "../support/db.ts";
import { createListedMentor, createMentor } from "../support/factories.ts";

const db = useTestDatabase();

describe("cert_notification_log (inbound idempotency)", () => {
  const record = (eventId: string, payload: postgres.JSONValue) =>
    db().sql`
    insert into public.cert_notification_log (event_id, event_type, payload, signature_scheme, status)
    values (${eventId}, 'listing.confirmed', ${db().sql.json(payload)}, 'hlf-sha256', 'applied')
    on conflict (event_id) do nothing`;

  it("a duplicate event_id inserts nothing, raises nothing, and keeps the first payload", async () => {
    const eventId = randomUUID();
    expect((await record(eventId, { n: 1 })).count).toBe(1);
    expect((await record(eventId, { n: 2 })).count).toBe(0);
    const rows = await db().sql`
      select payload from public.cert_notification_log where event_id = ${eventId}`;
    expect(rows.map((r) => r.payload)).toEqual([{ n: 1 }]);
  });

  // The ledger row is written complete, with its verdict: no "received" row waits to be processed,
  // and the sync issues are drift and dropped renewal entries only (nothing else writes them).
  it("takes only the states something writes", async () => {
    const mentor = await createMentor(db().sql);
    const refused = (q: Promise<unknown>) =>
      q.then(() => "accepted", (e: { code?: string }) => e.code);
    expect(
      await refused(
        db().sql`insert into public.cert_notification_log (event_id, event_type, payload)
        values (${randomUUID()}, 'listing.confirmed', '{}')`,
      ),
    ).toBe("23502");
    for (const status of ["received", "failed"]) {
      expect(
        await refused(db().sql`insert into public.cert_notification_log
          (event_id, event_type, payload, status)
          values (${randomUUID()}, 'listing.confirmed', '{}', ${status})`),
      ).toBe("23514");
    }
    expect(
      await refused(db().sql`insert into public.sync_issues (mentor_id, kind)
        values (${mentor.id}, 'dead_letter')`),
    ).toBe("23514");
  });
});

interface Status {
  state: string;
  listing: string;
  last_event_id: string;
  last_event_type: string;
  attempts: number;
  last_error: string | null;
  last_attempt_at: Date | null;
  last_success_at: Date | null;
  next_attempt_at: Date | null;
}

async function status(mentorId: string): Promise<Status> {
  const [row] = await db().sql<Status[]>`
    select state, listing, last_event_id, last_event_type, attempts, last_error,
           last_attempt_at, last_success_at, next_attempt_at
      from public.mentor_sync_status where mentor_id = ${mentorId}`;
  return row;
}

async function latestEvent(mentorId: string) {
  const [row] = await db().sql`
    select event_id, event_type from public.sync_events where mentor_id = ${mentorId}
     order by id desc limit 1`;
  return row as { event_id: string; event_type: string };
}

const attempt = (
  mentorId: string,
  eventId: string,
  n: number,
  outcome: string,
  finishedAt: Date,
  error: string | null = outcome === "delivered" ? null : "upstream unavailable",
) =>
  db().sql`
  insert into public.dynamics_sync_attempts
    (event_id, mentor_id, attempt, dispatcher, started_at, finished_at, duration_ms, http_status,
     outcome, error)
  values (${eventId}, ${mentorId}, ${n}, 'test-dispatcher', ${finishedAt}, ${finishedAt}, 12,
          ${outcome === "delivered" ? 204 : 503}, ${outcome}, ${error})`;

describe("mentor_sync_status", () => {
  it("follows the latest event through retries, delivery and a newer event", async () => {
    const { mentorId, certificationId } = await createListedMentor(db().sql);
    const first = await latestEvent(mentorId);
    expect(await status(mentorId)).toMatchObject({
      state: "pending",
      listing: "listed",
      last_event_id: first.event_id,
      last_event_type: "certification.renewed",
      attempts: 0,
    });

    const failedAt = new Date("2026-11-22T10:00:00.000Z");
    await attempt(mentorId, first.event_id, 1, "retryable", failedAt);
    await db().sql`update public.sync_events
                    set state = 'retrying', attempts = 1, last_error = 'HTTP 503',
                        next_attempt_at = ${new Date("2026-11-22T10:01:00.000Z")}
                  where event_id = ${first.event_id}`;
    expect(await status(mentorId)).toMatchObject({
      state: "retrying",
      attempts: 1,
      last_error: "HTTP 503",
      last_attempt_at: failedAt,
      last_success_at: null,
      next_attempt_at: new Date("2026-11-22T10:01:00.000Z"),
    });

    const deliveredAt = new Date("2026-11-22T10:01:00.500Z");
    await attempt(mentorId, first.event_id, 2, "delivered", deliveredAt);
    await db().sql`update public.sync_events
                    set state = 'delivered', attempts = 2, last_error = null,
                        delivered_at = ${deliveredAt}
                  where event_id = ${first.event_id}`;
    expect(await status(mentorId)).toMatchObject({
      state: "synced",
      attempts: 2,
      last_error: null,
      last_attempt_at: deliveredAt,
      last_success_at: deliveredAt,
      next_attempt_at: null,
    });

    await db()
      .sql`update public.certifications set status = 'revoked' where id = ${certificationId}`;
    const second = await latestEvent(mentorId);
    expect(await status(mentorId)).toMatchObject({
      state: "pending",
      listing: "unlisted",
      last_event_id: second.event_id,
      last_event_type: "certification.expired",
      attempts: 0,
      last_success_at: deliveredAt,
    });
  });

  it.each([["failed", "failed"], ["held", "held"]])(
    "event state %s shows as %s",
    async (eventState, shown) => {
      const { mentorId } = await createListedMentor(db().sql);
      const { event_id } = await latestEvent(mentorId);
      await db()
        .sql`update public.sync_events set state = ${eventState} where event_id = ${event_id}`;
      expect((await status(mentorId)).state).toBe(shown);
    },
  );

  it("ignores superseded events: the newest event decides", async () => {
    const { mentorId, certificationId } = await createListedMentor(db().sql);
    await db()
      .sql`update public.certifications set status = 'paused' where id = ${certificationId}`;
    const newest = await latestEvent(mentorId);
    await db().sql`update public.sync_events set state = 'superseded'
                  where mentor_id = ${mentorId} and event_id <> ${newest.event_id}`;
    expect(await status(mentorId)).toMatchObject({
      state: "pending",
      last_event_id: newest.event_id,
      last_event_type: "certification.expired",
    });
  });

  it("rejects an attempt error longer than 2000 characters", async () => {
    const { mentorId } = await createListedMentor(db().sql);
    const { event_id } = await latestEvent(mentorId);
    await expect(attempt(mentorId, event_id, 1, "permanent", new Date(), "x".repeat(2001)))
      .rejects.toMatchObject({ code: "23514" });
  });
});
