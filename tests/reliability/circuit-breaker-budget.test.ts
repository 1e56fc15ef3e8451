// Regression: a round the open circuit breaker refuses sends nothing, so it is neither an attempt
// (no audit row, attempts unchanged) nor a spent round of the event's dead-letter budget. Before
// the fix the refusal was reported as an attempt and counted as a round: with SYNC_MAX_ROUNDS=1
// an event was dead-lettered by its first refusal without Dynamics ever seeing it.
import { expect, it } from "vitest";
import { dynamicsClientFor } from "../../shared/runtime.ts";
import { createDispatcher, dispatchConfig, useDispatchFixture } from "./dispatch-harness.ts";
import { seedMentorsWithPendingEvents } from "../support/factories.ts";

const fixture = useDispatchFixture();

async function eventOf(mentorId: string) {
  const [row] = await fixture.db.sql<
    { state: string; rounds: number; attempts: number; audited: number }[]
  >`
    select state, rounds, attempts,
           (select count(*)::int from public.dynamics_sync_attempts a
             where a.event_id = e.event_id) as audited
    from public.sync_events e where mentor_id = ${mentorId}`;
  return row;
}

it("refused rounds are not attempts and do not spend the dead-letter budget", async () => {
  const { db, sandbox } = fixture;
  const config = dispatchConfig(db.url, sandbox, {
    DYNAMICS_CIRCUIT_THRESHOLD: "2",
    DYNAMICS_CIRCUIT_COOLDOWN_MS: "600000",
    DYNAMICS_MAX_RETRIES: "0",
    SYNC_MAX_ROUNDS: "1",
  });
  const client = dynamicsClientFor(config);
  // Two outage answers open this client's breaker for ten minutes.
  await sandbox.control.faults({ kind: "status", status: 503, count: 2 });
  for (const eventId of [crypto.randomUUID(), crypto.randomUUID()]) {
    await client.send({ eventId, body: "{}", headers: () => Promise.resolve({}) });
  }
  expect(client.circuitState()).toBe("open");

  const [mentorId] = await seedMentorsWithPendingEvents(db.sql, 1);
  const refusing = createDispatcher(config, db.sql, "refusing", client);
  for (let round = 0; round < 3; round++) {
    await db
      .sql`update public.sync_events set next_attempt_at = now() where mentor_id = ${mentorId}`;
    expect(await refusing.dispatchDue()).toMatchObject({ claimed: 1, retrying: 1, failed: 0 });
    expect(await eventOf(mentorId)).toEqual({
      state: "retrying",
      rounds: 0,
      attempts: 0,
      audited: 0,
    });
  }
  expect(sandbox.state.counters.requests).toBe(2);
  const [status] = await db.sql<{ state: string; attempts: number; last_error: string }[]>`
    select state, attempts, last_error from public.mentor_sync_status where mentor_id = ${mentorId}`;
  expect(status).toMatchObject({ state: "retrying", attempts: 0 });
  expect(status.last_error).toMatch(/^circuit_open: /);

  // Dynamics is back (a dispatcher whose breaker is closed): the whole budget is still there.
  await db.sql`update public.sync_events set next_attempt_at = now() where mentor_id = ${mentorId}`;
  const healthy = createDispatcher(config, db.sql, "healthy");
  expect(await healthy.dispatchDue()).toMatchObject({ claimed: 1, delivered: 1 });
  expect(await eventOf(mentorId)).toEqual({
    state: "delivered",
    rounds: 1,
    attempts: 1,
    audited: 1,
  });
  expect(sandbox.state.listings.get(mentorId)?.listing).toBe("listed");
});
