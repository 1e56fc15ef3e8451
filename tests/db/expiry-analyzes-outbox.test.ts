// Regression (issue 14, mass expiry): until autovacuum's next analyze the planner believed the
// events a mass expiry had just enqueued did not exist, so every claim read and sorted all of them.
// A mass expiry now refreshes the outbox's statistics in its own transaction; a small one does not.
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { seedSyncedMentors } from "../../bench/seed.ts";
import { createTestDatabase, type TestDatabase } from "../support/db.ts";

let db: TestDatabase;

beforeEach(async () => {
  db = await createTestDatabase();
});

afterEach(() => db?.close());

async function outboxRowsAsPlanned(): Promise<number> {
  const [{ reltuples }] = await db.sql<{ reltuples: number }[]>`
    select reltuples::int as reltuples from pg_class where oid = 'public.sync_events'::regclass`;
  return reltuples;
}

/** `count` lapsed certifications and statistics taken before they expire, as in production. */
async function lapsed(count: number): Promise<number> {
  await seedSyncedMentors(db.sql, count, { lapsed: true });
  await db.sql`analyze`;
  return await outboxRowsAsPlanned();
}

async function expire(): Promise<number> {
  const [{ expired }] = await db.sql<{ expired: number }[]>`
    select public.expire_due_certifications() as expired`;
  return expired;
}

describe("expire_due_certifications and the outbox's statistics", () => {
  it("counts a mass expiry's new events before the dispatchers plan their claims", async () => {
    const before = await lapsed(1_000);
    expect(await expire()).toBe(1_000);
    expect(await outboxRowsAsPlanned()).toBeGreaterThanOrEqual(before + 1_000);
  }, 120_000);

  it("leaves them to autovacuum after a small expiry", async () => {
    const before = await lapsed(20);
    expect(await expire()).toBe(20);
    expect(await outboxRowsAsPlanned()).toBe(before);
  }, 120_000);
});
