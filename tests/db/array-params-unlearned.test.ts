// postgres.js serialises a JS array parameter as an array literal only once the pool has learned the
// array types (its start-up type query); until then it sends `'' + array`, "a,b", which a `uuid[]`
// parameter refuses as a malformed array literal (porsager/postgres#1164). A fresh stack met that
// window: its first inbound confirmations were answered 500 (22P02). The product's statements that
// take many ids carry them inside their jsonb input instead, so they work on a connection that never
// learned the array types, which is what these run on.
import { beforeEach, expect, it } from "vitest";
import { receiveInbound } from "../../shared/inbound-service.ts";
import { claimDueEvents, finishRounds } from "../../shared/outbox/sync-queries.ts";
import type { Sql } from "../../shared/db.ts";
import { attemptRecord } from "../support/attempt-record.ts";
import { useTestDatabase } from "../support/db.ts";
import { createListedMentor, settleOutbox } from "../support/factories.ts";
import { listingConfirmed } from "../support/payload-factory.ts";

const db = useTestDatabase();
beforeEach(() => settleOutbox(db().sql));

/** Runs `fn` on a new pool that never fetches the array types, given two new listed mentors. */
async function unlearned(fn: (sql: Sql, mentorIds: string[]) => Promise<void>): Promise<void> {
  const sql = db().connect({ fetch_types: false });
  try {
    const mentorIds = [];
    for (let i = 0; i < 2; i++) mentorIds.push((await createListedMentor(db().sql)).mentorId);
    await fn(sql, mentorIds);
  } finally {
    await sql.end();
  }
}

it("confirms outbound events on a connection without array types", () =>
  unlearned(async (sql, mentorIds) => {
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
  unlearned(async (sql, mentorIds) => {
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
