// Issue 16, item 4: on the embedded PGlite every client shares one Postgres session, so a
// session-level setting made by one client (a `SET request.jwt.claim.sub`, `SET role`, a
// `set_config(..., false)`) must not reach another client. The victim is the sync-status function
// on its own client, asked as the coordinator of chapter A1; the attacker, on another client, sets
// the claims of the other organisation's coordinator for the whole session. On real Postgres the
// clients have separate sessions, so the same test holds trivially there.
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { createApp as syncStatusApp } from "../../functions/sync-status/app.ts";
import { asRole, claims, createTestDatabase, type TestDatabase } from "../support/db.ts";
import { inProcessRuntime } from "../support/inbound-delivery.ts";
import { createIsolationWorld, type IsolationWorld } from "../support/isolation-world.ts";
import { mintJwt } from "../support/tokens.ts";

const JWT_SECRET = "shared-session-test-secret-long-enough-for-hs256";

let db: TestDatabase;
let w: IsolationWorld<"mentorA1" | "coordA1" | "coordA2" | "coordB1">;
let attacker: ReturnType<TestDatabase["connect"]>;
let status: (query: string) => Promise<{ status: number; body: unknown }>;

beforeAll(async () => {
  db = await createTestDatabase();
  w = await createIsolationWorld(db.sql);
  attacker = db.connect();
  // The function's own client: not the attacker's, not the one the setup used.
  const { runtime } = inProcessRuntime({ ...db, sql: db.connect() }, { JWT_SECRET });
  const app = syncStatusApp(runtime);
  const token = await mintJwt(JWT_SECRET, {
    role: "authenticated",
    sub: w.users.coordA1,
    issuer: runtime.config.callers!.authUrl,
  });
  status = async (query) => {
    const res = await app.request(`/sync-status?${query}`, {
      headers: { authorization: `Bearer ${token}` },
    });
    return { status: res.status, body: await res.json() };
  };
});
afterAll(async () => {
  await db?.close();
});

// Each case starts from a clean session, so each stands on its own.
afterEach(async () => {
  await attacker.unsafe("reset all; reset role").simple();
});

const listedIds = (body: unknown) =>
  (body as { items: { mentorId: string }[] }).items.map((i) => i.mentorId).sort();

const SESSION_SETS: [string, (as: string) => string][] = [
  ["SET request.jwt.claim.sub", (sub) => `set request.jwt.claim.sub = '${sub}'`],
  [
    "set_config('request.jwt.claim.sub', ..., false)",
    (sub) => `select set_config('request.jwt.claim.sub', '${sub}', false)`,
  ],
  [
    "SET inside a committed transaction (outlives it)",
    (sub) => `begin; set request.jwt.claim.sub = '${sub}'; commit`,
  ],
];

describe("a session-level claims SET by one client", () => {
  it("takes effect for a client that sets only the claims, as PostgREST does (so the checks below mean something)", async () => {
    await attacker.unsafe(`set request.jwt.claim.sub = '${w.users.coordB1}'`).simple();
    // auth.uid() prefers the legacy per-claim setting to request.jwt.claims.
    const seen = await attacker.begin(async (tx) => {
      await tx`select set_config('request.jwt.claims', ${
        JSON.stringify(claims.user(w.users.coordA1))
      }, true), set_config('role', 'authenticated', true)`;
      return await tx<{ id: string }[]>`select id from public.peer_mentors`;
    });
    expect(seen.map((r) => r.id)).toEqual([w.mentors.onlyB1]);
  });

  it("is masked, on that same client, by the product's caller context", async () => {
    const read = (client: typeof attacker) =>
      asRole(
        client,
        claims.user(w.users.coordA1),
        (tx) => tx<{ id: string }[]>`select id from public.peer_mentors order by id`,
      );
    const fresh = (await read(db.sql)).map((r) => r.id);
    expect(fresh).toContain(w.mentors.onlyA1);
    await attacker.unsafe(`set request.jwt.claim.sub = '${w.users.coordB1}'`).simple();
    expect((await read(attacker)).map((r) => r.id)).toEqual(fresh);
  });

  for (const [name, statement] of SESSION_SETS) {
    it(`never changes what another client's sync-status returns: ${name}`, async () => {
      const before = {
        own: await status(`mentorId=${w.mentors.onlyA1}`),
        other: await status(`mentorId=${w.mentors.onlyB1}`),
        list: await status("list=true"),
      };
      expect(before.own.status).toBe(200);
      expect(before.other.status).toBe(404);
      expect(listedIds(before.list.body)).toEqual([w.mentors.onlyA1, w.mentors.shared].sort());

      await attacker.unsafe(statement(w.users.coordB1)).simple();
      const after = {
        own: await status(`mentorId=${w.mentors.onlyA1}`),
        other: await status(`mentorId=${w.mentors.onlyB1}`),
        list: await status("list=true"),
      };
      expect(after.own).toEqual(before.own);
      expect(after.other).toEqual(before.other);
      expect(listedIds(after.list.body)).toEqual(listedIds(before.list.body));
    });
  }
});
