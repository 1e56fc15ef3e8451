// Regression: the sync service keeps a safety margin of every lease so a round never outlives the
// lease it writes under. It was a fixed 5 s, so any SYNC_LEASE_SECONDS the config accepts from 1
// to 5 left a zero delivery budget: every round failed with `budget_exhausted` before sending, and
// the events were eventually dead-lettered without Dynamics ever seeing them.
import { expect, it } from "vitest";
import { createDispatcher, dispatchConfig, useDispatchFixture } from "./dispatch-harness.ts";
import { seedMentorsWithPendingEvents } from "../support/factories.ts";

const fixture = useDispatchFixture();

it.each(["1", "5"])("a %s s lease still leaves time to deliver", async (leaseSeconds) => {
  const { db, sandbox } = fixture;
  const mentorIds = await seedMentorsWithPendingEvents(db.sql, 3);
  const config = dispatchConfig(db.url, sandbox, { SYNC_LEASE_SECONDS: leaseSeconds });
  const dispatcher = createDispatcher(config, db.sql, `lease-${leaseSeconds}`);
  expect(await dispatcher.dispatchDue()).toMatchObject({ claimed: 3, delivered: 3, retrying: 0 });
  const rows = await db.sql<{ state: string; attempts: number }[]>`
    select state, attempts from public.sync_events where mentor_id = any(${mentorIds}::uuid[])`;
  expect(rows).toEqual(Array(3).fill({ state: "delivered", attempts: 1 }));
  expect(mentorIds.map((id) => sandbox.state.listings.get(id)?.listing)).toEqual(
    Array(3).fill("listed"),
  );
});
