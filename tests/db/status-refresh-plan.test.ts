// Regression (issue 14, mass expiry): the status refresh the outbox trigger runs after every
// dispatcher result write must look each mentor's listing up by index. Its statement may run on a
// generic plan that cannot see how few mentors a result write passes; such a plan once hash-joined
// the whole of mentor_listing_state on every call (about a quarter of Postgres's CPU in a
// 10,000-event mass expiry). The function's own statement is planned here as a generic plan.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { seedSyncedMentors } from "../../bench/seed.ts";
import { createTestDatabase, type TestDatabase } from "../support/db.ts";
import { functionStatement } from "../support/function-statement.ts";

let db: TestDatabase;
let mentors: string[];

beforeAll(async () => {
  db = await createTestDatabase();
  // A mass expiry as the bench runs it: 10,000 listed mentors seeded and analysed, then their
  // 10,000 expiry events, written after the statistics were taken, as happens in production
  // between two autovacuum analyses.
  mentors = await seedSyncedMentors(db.sql, 10_000, { lapsed: true });
  await db.sql`analyze`;
  await db.sql`select public.expire_due_certifications()`;
}, 120_000);

afterAll(() => db?.close());

describe("the status refresh's generic plan", () => {
  it("reads mentor_listing_state by its primary key, never as a whole", async () => {
    const body = await functionStatement(db.sql, "refresh_mentor_sync_status");
    const plan = await db.sql.begin(async (tx) => {
      await tx`set local plan_cache_mode = force_generic_plan`;
      await tx.unsafe(
        `prepare refresh_plan(uuid[]) as ${body.replaceAll("p_mentor_ids", "$1")}`,
      );
      const rows = await tx.unsafe<{ "QUERY PLAN": string }[]>(
        `explain execute refresh_plan('{${mentors.slice(0, 2).join(",")}}')`,
      );
      await tx.unsafe("deallocate refresh_plan");
      return rows.map((r) => r["QUERY PLAN"]).join("\n");
    });
    expect(plan).toMatch(/Index Scan using mentor_listing_state_pkey on mentor_listing_state/);
    expect(plan).not.toMatch(/Seq Scan on mentor_listing_state/);
  });
});
