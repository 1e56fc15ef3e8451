// Regression (issue 14, mass expiry): the dispatcher's batched result write joined its input (a
// jsonb_to_recordset the planner guesses at 100 rows) to sync_events, so every write hash-joined a
// scan of the whole outbox, and it looked up each event's previous attempt in a per-row subquery
// the cached plan could turn into a scan of the whole audit table per event. auto_explain shows
// how Postgres runs the write: sync_events by primary key, the audit table read at most once.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { seedSyncedMentors } from "../../bench/seed.ts";
import { claimDueEvents, finishRounds } from "../../shared/outbox/sync-queries.ts";
import { attemptRecord } from "../support/attempt-record.ts";
import { createTestDatabase, type TestDatabase } from "../support/db.ts";
import { explained, planNodes } from "../support/explained.ts";

let db: TestDatabase;

beforeAll(async () => {
  db = await createTestDatabase();
  // A mass expiry as the bench runs it: its events in the outbox and counted by the planner.
  await seedSyncedMentors(db.sql, 2_000, { lapsed: true });
  await db.sql`analyze`;
  await db.sql`select public.expire_due_certifications()`;
}, 120_000);

afterAll(() => db?.close());

describe("the dispatcher's batched result write", () => {
  it("finds its events by primary key and reads the audit table at most once", async ({ skip }) => {
    if (db.engine !== "postgres") skip("PGlite has no auto_explain");
    const claimed = await claimDueEvents(db.sql, { owner: "plan", leaseSeconds: 60, limit: 5 });
    expect(claimed).toHaveLength(5);
    const analyze = "set auto_explain.log_analyze = on";
    const { result: kept, statements } = await explained(db, analyze, (sql) =>
      finishRounds(
        sql,
        "plan",
        claimed.map((event) => ({
          event,
          attempts: [attemptRecord()],
          finish: { state: "delivered" as const, status: 204 },
        })),
      ));
    expect(kept).toEqual([true, true, true, true, true]);
    const [write] = statements.filter((s) => /update public\.sync_events e/.test(s["Query Text"]));
    const nodes = planNodes(write.Plan);
    const outboxReads = nodes.filter((n) => n["Relation Name"] === "sync_events");
    expect(outboxReads.map((n) => n["Node Type"])).not.toContain("Seq Scan");
    expect(outboxReads.length).toBeGreaterThan(0);
    const auditReads = nodes.filter((n) =>
      n["Relation Name"] === "dynamics_sync_attempts" && n["Node Type"] !== "ModifyTable"
    );
    expect(auditReads.map((n) => n["Actual Loops"])).toEqual(auditReads.length ? [1] : []);
    const [{ attempts }] = await db.sql<{ attempts: number }[]>`
      select count(*)::int as attempts from public.dynamics_sync_attempts where dispatcher = 'plan'`;
    expect(attempts).toBe(5);
  });
});
