// Reliability promises under concurrency: several dispatchers over one outbox deliver each event
// exactly once and never break per-mentor order, and a mentor flapping 20 times ends listed.
// The multi-dispatcher tests need real Postgres: on PGlite every client shares one session, so
// `FOR UPDATE SKIP LOCKED` and leases are never contended and such a test would prove nothing.
// The flapping mentor runs on both engines (one dispatcher racing the writes on PGlite).
import { describe, expect, it } from "vitest";
import { claimDueEvents, finishRounds } from "../../shared/outbox/sync-queries.ts";
import type { SyncService } from "../../shared/sync-service.ts";
import {
  appendEventChains,
  auditFigures,
  consistencyProblems,
  createDispatcher,
  dispatchConfig,
  drain,
  expireMentors,
  keepDispatching,
  orderViolations,
  renewMentors,
  useDispatchFixture,
} from "./dispatch-harness.ts";
import { configuredEngine } from "../support/db.ts";
import { seedMentorsWithPendingEvents } from "../support/factories.ts";

const onPostgres = configuredEngine() === "postgres";

const t = useDispatchFixture();

/**
 * `n` dispatchers, each with its own connections (sessions on Postgres) and Dynamics client. What is
 * under test is that claims never overlap; the sandbox never fails here, so the only other way to a
 * second request is the client timing out an answer that was merely slow and trying again
 * (at-least-once by design, tested in the fault matrix). The sandbox shares this process and its
 * event loop, so on a loaded 2-core machine the 1 s attempt timeout produced exactly that: the
 * timeout is 15 s here.
 */
const UNHURRIED = { SYNC_BATCH_SIZE: "50", DYNAMICS_ATTEMPT_TIMEOUT_MS: "15000" };

function dispatchers(n: number): SyncService[] {
  const config = dispatchConfig(t.db.url, t.sandbox, UNHURRIED);
  return Array.from(
    { length: n },
    (_, i) => createDispatcher(config, t.db.connect({ max: 4 }), `dispatcher-${i + 1}`),
  );
}

async function deliveriesByDispatcher(mentorIds: string[]): Promise<Record<string, number>> {
  const rows = await t.db.sql<{ dispatcher: string; n: number }[]>`
    select dispatcher, count(*)::int as n from public.dynamics_sync_attempts
    where mentor_id = any(${mentorIds}::uuid[]) and outcome = 'delivered'
    group by dispatcher`;
  return Object.fromEntries(rows.map((r) => [r.dispatcher, r.n]));
}

/** The exactly-once figures: each event one request, one application, one audit row. */
async function exactlyOnce(mentorIds: string[], events: number) {
  const audit = await auditFigures(t.db.sql, mentorIds);
  const { requests, delivered, duplicates } = t.sandbox.state.counters;
  expect({ requests, delivered, duplicates, attemptRows: audit.attemptRows }).toEqual({
    requests: events,
    delivered: events,
    duplicates: 0,
    attemptRows: events,
  });
  expect(await consistencyProblems(t.db.sql, t.sandbox.state, mentorIds)).toEqual([]);
}

describe.runIf(onPostgres)("several dispatchers, real Postgres", () => {
  it("two dispatchers over the same 1,000 events: each delivered exactly once", async () => {
    const mentorIds = await seedMentorsWithPendingEvents(t.db.sql, 1000);
    const figures = await drain(t.db.sql, dispatchers(2), { timeoutMs: 25_000 });
    expect(figures).toMatchObject({ delivered: 1000, lostLeases: 0, failed: 0 });
    await exactlyOnce(mentorIds, 1000);
    expect(Object.keys(await deliveriesByDispatcher(mentorIds))).toHaveLength(2);
  });

  it("four dispatchers over the same 5,000 events: exactly once, per-mentor order held", async () => {
    // 3,750 mentors with one event and 250 with a chain of five (listing, then four changes
    // queued behind it): 5,000 events, of which 1,250 must be applied in their mentor's order.
    const single = await seedMentorsWithPendingEvents(t.db.sql, 3750);
    const chained = await seedMentorsWithPendingEvents(t.db.sql, 250);
    await appendEventChains(t.db.sql, chained, 4);
    const mentorIds = [...single, ...chained];
    const figures = await drain(t.db.sql, dispatchers(4), { timeoutMs: 25_000 });
    expect(figures).toMatchObject({ delivered: 5000, lostLeases: 0, failed: 0 });
    await exactlyOnce(mentorIds, 5000);
    expect(t.sandbox.state.counters.outOfOrder).toBe(0);
    expect(await orderViolations(t.db.sql, t.sandbox.state, chained)).toEqual([]);
    expect(Object.keys(await deliveriesByDispatcher(mentorIds))).toHaveLength(4);
  });
});

describe.runIf(onPostgres)("a dispatcher that lost its leases mid-delivery, real Postgres", () => {
  // The stale dispatcher and the two that take over have their own sessions (on PGlite two
  // dispatchers in the one session deliver some events twice, with or without this scenario).
  it("writes no result over the new owner's: 200 events stay delivered exactly once", async () => {
    const mentorIds = await seedMentorsWithPendingEvents(t.db.sql, 200);
    const stale = t.db.connect({ max: 1 });
    const claimed = await claimDueEvents(stale, { owner: "stale", leaseSeconds: 60, limit: 1000 });
    expect(claimed.filter((e) => mentorIds.includes(e.mentorId))).toHaveLength(200);
    // Its leases lapse while its requests hang; two other dispatchers take the events over.
    await t.db.sql`
      update public.sync_events set lease_expires_at = now() - interval '1 second'
       where lease_owner = 'stale'`;
    // Their own connections, closed at the end (on PGlite the wire server takes few clients).
    const config = dispatchConfig(t.db.url, t.sandbox, UNHURRIED);
    const connections = [t.db.connect({ max: 2 }), t.db.connect({ max: 2 })];
    const takers = connections.map((sql, i) => createDispatcher(config, sql, `taker-${i + 1}`));
    const taken = await drain(t.db.sql, takers, { timeoutMs: 25_000 });
    expect(taken).toMatchObject({ delivered: claimed.length, lostLeases: 0 });

    // The stale dispatcher's requests finally time out: its results must change nothing.
    const failedAt = new Date();
    const kept = await finishRounds(
      stale,
      "stale",
      claimed.map((event) => ({
        event,
        // Its timed-out request is audited too, in the real dispatcher; left out here so the
        // sandbox (which never saw it) and the audit log stay comparable.
        attempts: [],
        finish: {
          state: "retrying" as const,
          nextAttemptAt: failedAt,
          error: "http_503: service unavailable",
          code: "http_503",
          status: 503,
        },
      })),
    );
    expect(kept.filter(Boolean)).toEqual([]);
    const states = await t.db.sql<{ state: string; n: number }[]>`
      select state, count(*)::int as n from public.sync_events
       where mentor_id = any(${mentorIds}::uuid[]) group by state`;
    expect(states).toEqual([{ state: "delivered", n: 200 }]);
    // Nothing is due again, so nothing is sent twice.
    expect(await drain(t.db.sql, takers, { timeoutMs: 5_000 })).toMatchObject({ claimed: 0 });
    expect(t.sandbox.state.counters.duplicates).toBe(0);
    expect(await consistencyProblems(t.db.sql, t.sandbox.state, mentorIds)).toEqual([]);
    await Promise.all([stale, ...connections].map((sql) => sql.end()));
  });
});

describe("a flapping mentor", () => {
  it("expired and renewed 20 times in quick succession while dispatching ends listed", async () => {
    const [mentorId] = await seedMentorsWithPendingEvents(t.db.sql, 1);
    const workers = dispatchers(onPostgres ? 4 : 1);
    const stop = new AbortController();
    const background = keepDispatching(workers, stop.signal);
    for (let i = 0; i < 20; i++) {
      await expireMentors(t.db.sql, [mentorId]);
      await renewMentors(t.db.sql, [mentorId]);
    }
    stop.abort();
    await background;
    await drain(t.db.sql, workers, { timeoutMs: 10_000 });
    expect(t.sandbox.state.listings.get(mentorId)?.listing).toBe("listed");
    expect(t.sandbox.state.counters.outOfOrder).toBe(0);
    expect(await orderViolations(t.db.sql, t.sandbox.state, [mentorId])).toEqual([]);
    expect(await consistencyProblems(t.db.sql, t.sandbox.state, [mentorId])).toEqual([]);
    const [{ n }] = await t.db.sql<{ n: number }[]>`
      select count(*)::int as n from public.sync_events where mentor_id = ${mentorId}`;
    expect(n).toBe(41);
  });
});
