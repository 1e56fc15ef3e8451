// postgres.js serialises a JS array parameter as an array literal, and parses an array column, only
// once the pool has learned the array types (its start-up type query). Until then it sends
// `'' + array`, "a,b", which a `uuid[]` parameter refuses as a malformed array literal
// (porsager/postgres#1164), and returns an array column as its text, "{a,b}". A fresh stack met
// that window: its first inbound confirmations were answered 500 (22P02). The product's pool now
// never learns them (shared/db.ts, fetch_types off), and its statements take many ids inside their
// jsonb input and return lists as JSON; these run them on such a connection.
import { beforeEach, expect, it } from "vitest";
import { callerSql } from "../../shared/http/caller-context.ts";
import { receiveInbound } from "../../shared/inbound-service.ts";
import { claimDueEvents, finishRounds } from "../../shared/outbox/sync-queries.ts";
import { listSyncStatus } from "../../shared/status-queries.ts";
import type { Sql } from "../../shared/db.ts";
import { attemptRecord } from "../support/attempt-record.ts";
import { useTestDatabase } from "../support/db.ts";
import {
  createChapter,
  createListedMentor,
  createOrganisation,
  settleOutbox,
} from "../support/factories.ts";
import { listingConfirmed } from "../support/payload-factory.ts";

const db = useTestDatabase();
beforeEach(() => settleOutbox(db().sql));

/** Runs `fn` on a new pool that never fetches the array types. */
async function unlearned(fn: (sql: Sql) => Promise<void>): Promise<void> {
  const sql = db().connect({ fetch_types: false });
  try {
    await fn(sql);
  } finally {
    await sql.end();
  }
}

async function twoListedMentors(): Promise<string[]> {
  return [
    (await createListedMentor(db().sql)).mentorId,
    (await createListedMentor(db().sql)).mentorId,
  ];
}

it("confirms outbound events on a connection without array types", () =>
  unlearned(async (sql) => {
    const mentorIds = await twoListedMentors();
    const outbound = await db().sql<{ event_id: string; mentor_id: string }[]>`
      select event_id, mentor_id from public.sync_events where mentor_id in ${db().sql(mentorIds)}
      order by id`;
    const group = outbound.map((e) => ({
      event: listingConfirmed({ mentorId: e.mentor_id, inReplyTo: e.event_id }),
      scheme: "standard-webhooks",
    }));

    expect(await receiveInbound(sql, group)).toEqual(
      outbound.map((e) => ({ status: "accepted", effect: `confirmed ${e.event_id}` })),
    );
    const confirmed = await db().sql`
      select event_id from public.sync_events where confirmed_at is not null order by id`;
    expect(confirmed).toEqual(outbound.map((e) => ({ event_id: e.event_id })));
  }));

it("records round results on a connection without array types", () =>
  unlearned(async (sql) => {
    const mentorIds = await twoListedMentors();
    const claimed = await claimDueEvents(sql, { owner: "d", leaseSeconds: 60, limit: 10 });
    expect(claimed).toHaveLength(2);

    const kept = await finishRounds(
      sql,
      "d",
      claimed.map((event) => ({
        event,
        attempts: [attemptRecord()],
        finish: { state: "delivered", status: 204 },
      })),
    );
    expect(kept).toEqual([true, true]);
    const rows = await db().sql<{ state: string; audited: number }[]>`
      select e.state, (select count(*)::int from public.dynamics_sync_attempts a
                       where a.event_id = e.event_id) as audited
      from public.sync_events e where e.mentor_id in ${db().sql(mentorIds)} order by e.id`;
    expect(rows).toEqual([{ state: "delivered", audited: 1 }, { state: "delivered", audited: 1 }]);
  }));

it("lists mentors with their chapters as arrays on a connection without array types", async () => {
  const organisation = await createOrganisation(db().sql);
  const chapters = [
    await createChapter(db().sql, { organisationId: organisation.id }),
    await createChapter(db().sql, { organisationId: organisation.id }),
  ];
  const { mentorId } = await createListedMentor(db().sql, {
    chapterIds: [chapters[0].id, chapters[1].id],
  });
  await unlearned(async (sql) => {
    const asService = callerSql(sql, { role: "service_role", userId: null, claims: {} });
    const page = await listSyncStatus(asService, {
      chapterId: chapters[0].id,
      limit: 10,
      onlyViewable: false,
    });
    expect(page.items.map((i) => [i.mentorId, [...i.chapterIds].sort()])).toEqual([
      [mentorId, chapters.map((c) => c.id).sort()],
    ]);
  });
});
