// Issue 16, item 1: the API roles hold no privilege on any sequence. Connected as PostgREST
// connects (a login switching to `anon` / `authenticated` per request), `nextval` and `setval` on
// every sequence of the public schema are refused, and the outbox keeps working afterwards.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { asRole, claims, createTestDatabase, type TestDatabase } from "../support/db.ts";
import { createListedMentor, createUser } from "../support/factories.ts";

let db: TestDatabase;
let userId: string;
let sequences: string[];

beforeAll(async () => {
  db = await createTestDatabase();
  userId = (await createUser(db.sql)).id;
  // Existing outbox rows, so a sequence reset by the callers below would collide with them.
  for (let i = 0; i < 3; i++) await createListedMentor(db.sql);
  sequences = (await db.sql<{ name: string }[]>`
    select format('%I.%I', n.nspname, c.relname) as name
      from pg_class c join pg_namespace n on n.oid = c.relnamespace
     where c.relkind = 'S' and n.nspname = 'public' order by 1`).map((r) => r.name);
});
afterAll(async () => {
  await db?.close();
});

const CALLERS = { anon: () => claims.anon(), authenticated: () => claims.user(userId) };

async function sqlstateOf(fn: () => Promise<unknown>): Promise<string | undefined> {
  try {
    await fn();
    return undefined;
  } catch (error) {
    return (error as { code?: string }).code;
  }
}

describe("sequences", () => {
  it("the schema has the outbox and ledger sequences (the checks below cover them)", () => {
    expect(sequences).toEqual(expect.arrayContaining([
      "public.sync_events_id_seq",
      "public.dynamics_sync_attempts_id_seq",
      "public.cert_notification_log_id_seq",
    ]));
  });

  for (const [role, jwt] of Object.entries(CALLERS)) {
    it(`${role} can neither nextval nor setval any sequence`, async () => {
      const refused: Record<string, [string | undefined, string | undefined]> = {};
      const claimsOf = jwt();
      for (const seq of sequences) {
        refused[seq] = [
          await sqlstateOf(() => asRole(db.sql, claimsOf, (tx) => tx`select nextval(${seq})`)),
          await sqlstateOf(() => asRole(db.sql, claimsOf, (tx) => tx`select setval(${seq}, 1)`)),
        ];
      }
      expect(refused).toEqual(
        Object.fromEntries(sequences.map((s) => [s, ["42501", "42501"]])),
      );
    });
  }

  it("after the refused attempts, certification changes still write their events", async () => {
    const { mentorId } = await createListedMentor(db.sql);
    await db.sql`update public.certifications set status = 'revoked' where mentor_id = ${mentorId}`;
    const [{ n }] = await db.sql<{ n: number }[]>`
      select count(*)::int as n from public.sync_events where mentor_id = ${mentorId}`;
    expect(n).toBe(2);
  });
});
