// Regression (issue 14): the functions every dispatcher result write and every coordinator's status
// read call must keep their statement's plan for the session. As SECURITY DEFINER SQL functions
// (never inlined) PostgreSQL parsed and planned their statement on every call: 2.7 s of a 10,000-event
// mass expiry's 9.9 s of result writes went to refresh_mentor_sync_status alone (pg_stat_statements,
// bench scenario 9). A plpgsql function's statements are prepared once per session, and the session
// shows them as `CachedPlanSource` memory contexts named by the statement's text.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { seedSyncedMentors } from "../../bench/seed.ts";
import { createTestDatabase, type TestDatabase } from "../support/db.ts";
import { functionStatement } from "../support/function-statement.ts";

let db: TestDatabase;
let mentors: string[];

beforeAll(async () => {
  db = await createTestDatabase();
  mentors = await seedSyncedMentors(db.sql, 3);
});

afterAll(() => db?.close());

/** Whether this session holds a prepared plan for `statement` (idents are cut at 1,024 bytes). */
async function sessionKeepsPlanOf(statement: string): Promise<boolean> {
  const idents = await db.sql<{ ident: string }[]>`
    select ident from pg_backend_memory_contexts
     where name = 'CachedPlanSource' and ident is not null`;
  return idents.some(({ ident }) =>
    ident.trim().length >= Math.min(statement.length, 512) &&
    statement.startsWith(ident.trim())
  );
}

describe("functions on the hot paths keep their plans for the session", () => {
  it("refresh_mentor_sync_status, run by every result write", async () => {
    await db.sql`select private.refresh_mentor_sync_status(${mentors}::uuid[])`;
    expect(await sessionKeepsPlanOf(await functionStatement(db.sql, "refresh_mentor_sync_status")))
      .toBe(true);
  });

  it("resolve_sync_alerts, run by every result write that delivers", async () => {
    await db.sql`select private.resolve_sync_alerts('dead_letter', ${mentors}::uuid[])`;
    expect(await sessionKeepsPlanOf(await functionStatement(db.sql, "resolve_sync_alerts"))).toBe(
      true,
    );
  });

  it("coordinated_chapter_ids, run by the policies of every coordinator's read", async () => {
    await db.sql`select count(*) from private.coordinated_chapter_ids()`;
    expect(await sessionKeepsPlanOf(await functionStatement(db.sql, "coordinated_chapter_ids")))
      .toBe(true);
  });

  it("finds no kept plan for a statement the session never ran (the check can fail)", async () => {
    expect(await sessionKeepsPlanOf("select 'never run in this session' as nothing")).toBe(false);
  });
});
