// Regression (issue 14, mass expiry): the listing trigger joins its transition tables, whose sizes
// the planner can only guess (500,000 pairs for 10,000 rows), so its statements passed every JIT
// threshold and LLVM compiled them on each mass expiry: about 200 ms of a 1.0 s
// expire_due_certifications() for queries that run in 30 ms. auto_explain reports each statement
// the expiry runs, nested ones too, with its JIT figures; JIT is made as eager as it goes so that
// any statement of the trigger's that may compile does, and none of them may.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { seedSyncedMentors } from "../../bench/seed.ts";
import { createTestDatabase, type TestDatabase } from "../support/db.ts";
import { explained } from "../support/explained.ts";

let db: TestDatabase;

beforeAll(async () => {
  db = await createTestDatabase();
  await seedSyncedMentors(db.sql, 200, { lapsed: true });
  await db.sql`analyze`;
}, 120_000);

afterAll(() => db?.close());

describe("a mass expiry's listing trigger", () => {
  it("runs its statements without JIT compilation", async ({ skip }) => {
    if (db.engine !== "postgres") skip("PGlite has no JIT and no auto_explain");
    const [{ available }] = await db.sql<{ available: boolean }[]>`
      select pg_jit_available() as available`;
    if (!available) skip("this server was built without LLVM: nothing compiles");
    const { result: expired, statements } = await explained(
      db,
      `set jit = on;
       set jit_above_cost = 0;
       set jit_inline_above_cost = 0;
       set jit_optimize_above_cost = 0`,
      async (sql) => {
        const [row] = await sql<{ expired: number }[]>`
          select public.expire_due_certifications() as expired`;
        return row.expired;
      },
    );
    expect(expired).toBe(200);
    // The trigger's pairs of old and new rows, and the listing refresh and enqueue it runs.
    const underTrigger = [
      /with pairs as/,
      /with computed as/,
      /insert into public\.sync_events/,
      /insert into public\.mentor_sync_status/,
    ].map((text) => statements.filter((s) => text.test(s["Query Text"])));
    for (const found of underTrigger) {
      expect(found.length).toBeGreaterThan(0);
      expect(found.filter((s) => s.JIT !== undefined).map((s) => s["Query Text"])).toEqual([]);
    }
    // The caller's own statements still compile here: JIT is on for the session.
    expect(statements.some((s) => s.JIT !== undefined)).toBe(true);
  });
});
