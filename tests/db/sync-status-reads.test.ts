// Issue 14, target 5: a sync-status read is ONE round trip (the caller's role and claims and the
// query in one message), counted on the wire; keyset pages neither repeat nor skip a mentor while
// rows change between pages; and row-level security still decides what each page holds.
import type postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApp as syncStatusApp } from "../../functions/sync-status/app.ts";
import { callerSql, literal, part } from "../../shared/http/caller-context.ts";
import { asCaller, createTestDatabase, type TestDatabase } from "../support/db.ts";
import {
  createChapter,
  createCoordinator,
  createListedMentor,
  createOrganisation,
} from "../support/factories.ts";
import { inProcessRuntime } from "../support/inbound-delivery.ts";
import { countingClient, RoundTrips } from "../support/round-trips.ts";
import { mintJwt } from "../support/tokens.ts";

const JWT_SECRET = "sync-status-reads-test-secret-long-enough-for-hs256";

let db: TestDatabase;
const trips = new RoundTrips();
let counted: postgres.Sql;
let app: ReturnType<typeof syncStatusApp>;
let issuer: string;
let chapter: string;
let otherChapter: string;
let coordinator: string;
let mentors: string[];
let foreignMentor: string;

beforeAll(async () => {
  db = await createTestDatabase();
  const org = (await createOrganisation(db.sql)).id;
  chapter = (await createChapter(db.sql, { organisationId: org })).id;
  const otherOrg = (await createOrganisation(db.sql)).id;
  otherChapter = (await createChapter(db.sql, { organisationId: otherOrg })).id;
  coordinator = (await createCoordinator(db.sql, [chapter])).id;
  mentors = [];
  for (let i = 0; i < 9; i++) {
    mentors.push((await createListedMentor(db.sql, { chapterIds: [chapter] })).mentorId);
  }
  foreignMentor = (await createListedMentor(db.sql, { chapterIds: [otherChapter] })).mentorId;
  counted = countingClient(db.url, trips);
  const { runtime } = inProcessRuntime({ ...db, sql: counted }, { JWT_SECRET });
  app = syncStatusApp(runtime);
  issuer = runtime.config.callers!.authUrl;
});
afterAll(async () => {
  await counted?.end({ timeout: 5 });
  await db?.close();
});

const tokenOf = (sub: string) => mintJwt(JWT_SECRET, { role: "authenticated", sub, issuer });

async function get(query: string, token: string) {
  const res = await app.request(`/sync-status?${query}`, {
    headers: { authorization: `Bearer ${token}` },
  });
  return { status: res.status, body: await res.json() as Record<string, unknown> };
}

type Page = { items: { mentorId: string; state: string }[]; nextCursor: string | null };

/** Every page of a list, following the cursor; `between` runs after each page. */
async function walk(query: string, token: string, between: (page: number) => Promise<void>) {
  const seen: string[] = [];
  let cursor: string | null = null;
  for (let page = 0;; page++) {
    const res = await get(`${query}${cursor ? `&cursor=${cursor}` : ""}`, token);
    expect(res.status).toBe(200);
    const body = res.body as Page;
    seen.push(...body.items.map((i) => i.mentorId));
    cursor = body.nextCursor;
    if (cursor === null) return seen;
    await between(page);
  }
}

describe("round trips per sync-status read", () => {
  it("the counter sees the transaction form's 4 round trips (so 1 means something)", async () => {
    await counted`select 1`; // connected, types fetched
    const before = trips.count;
    await asCaller(counted, {
      role: "authenticated",
      userId: coordinator,
      claims: { sub: coordinator, role: "authenticated" },
    }, (tx) => tx`select mentor_id from public.mentor_sync_status`);
    expect(trips.count - before).toBe(4); // begin, caller context, query, commit
  });

  for (
    const [name, query, status] of [
      ["by mentor", () => `mentorId=${mentors[0]}`, 200],
      ["by mentor, not visible (404)", () => `mentorId=${foreignMentor}`, 404],
      ["list page 1 of a chapter", () => `list=true&chapterId=${chapter}&limit=3`, 200],
      [
        "a later list page (cursor)",
        () =>
          `list=true&chapterId=${chapter}&limit=3&cursor=${
            btoa(mentors.toSorted()[2]).replace(/=+$/, "")
          }`,
        200,
      ],
      ["list without a chapter", () => "list=true&limit=3", 200],
    ] as const
  ) {
    it(`${name}: one round trip`, async () => {
      const token = await tokenOf(coordinator);
      await counted`select 1`;
      const before = trips.count;
      const res = await get(query(), token);
      expect(res.status).toBe(status);
      expect(trips.count - before).toBe(1);
    });
  }
});

describe("keyset pages while rows change", () => {
  for (
    const [name, query] of [
      ["a chapter", () => `list=true&chapterId=${chapter}&limit=2`],
      ["everything the coordinator sees", () => "list=true&limit=2"],
    ] as const
  ) {
    it(`${name}: each mentor present throughout once, in order, nothing foreign`, async () => {
      const token = await tokenOf(coordinator);
      const added: string[] = [];
      const seen = await walk(query(), token, async (page) => {
        // Between pages: a new mentor joins (its id may fall before or after the cursor), a
        // mentor's state changes, and one more mentor joins the other organisation.
        added.push((await createListedMentor(db.sql, { chapterIds: [chapter] })).mentorId);
        await db.sql`update public.mentor_sync_status set state = 'failed'
          where mentor_id = ${mentors[page % mentors.length]}`;
        await createListedMentor(db.sql, { chapterIds: [otherChapter] });
      });
      expect(new Set(seen).size).toBe(seen.length);
      expect(seen).toEqual(seen.toSorted());
      for (const id of mentors) expect(seen).toContain(id);
      expect(seen.every((id) => mentors.includes(id) || added.includes(id))).toBe(true);
      mentors.push(...added);
    });
  }

  it("a state filter pages within that state", async () => {
    const failed = await db.sql<{ mentor_id: string }[]>`
      select s.mentor_id from public.mentor_sync_status s
      join public.mentor_chapters mc on mc.mentor_id = s.mentor_id and mc.chapter_id = ${chapter}
      where s.state = 'failed' order by 1`;
    expect(failed.length).toBeGreaterThan(2);
    const seen = await walk(
      `list=true&chapterId=${chapter}&state=failed&limit=2`,
      await tokenOf(coordinator),
      async () => {},
    );
    expect(seen).toEqual(failed.map((r) => r.mentor_id));
  });

  it("another organisation's chapter pages to nothing for this coordinator", async () => {
    const res = await get(`list=true&chapterId=${otherChapter}`, await tokenOf(coordinator));
    expect(res.body).toEqual({ items: [], nextCursor: null });
  });
});

describe("values sent as literals", () => {
  it("cannot end the literal or comment the statement out", async () => {
    const sql = callerSql(db.sql, { role: "service_role", userId: null, claims: {} });
    for (
      const value of ["it's", "a'); drop table x; --", "back\\slash", "line\nbreak", "é ø 😀", ""]
    ) {
      const [row] = await sql<{ v: string }[]>`select ${value}::text as v`;
      expect(row.v).toBe(value);
    }
    const [row] = await sql<{ n: number; b: boolean; z: null }[]>`
      select 10-${-1} as n, ${true} as b, ${null}::int as z`;
    expect(row).toEqual({ n: 11, b: true, z: null });
    expect(() => literal(1.5)).toThrow(TypeError);
    const [nested] = await sql<
      { v: string }[]
    >`select * from (${part`select ${"x'y"}::text`}) t(v)`;
    expect(nested.v).toBe("x'y");
  });

  it("the caller's claims reach the policies intact, quotes and all", async () => {
    const claims = { sub: coordinator, role: "authenticated", name: "O'Brien; --" };
    const sql = callerSql(db.sql, { role: "authenticated", userId: coordinator, claims });
    const [row] = await sql<{ claims: unknown; uid: string; who: string }[]>`
      select current_setting('request.jwt.claims')::jsonb as claims, auth.uid()::text as uid,
        current_user::text as who`;
    expect(row).toEqual({ claims, uid: coordinator, who: "authenticated" });
    // The role and claims were transaction-local: the session is back to itself.
    const [after] = await db.sql<{ who: string; claims: string | null }[]>`
      select current_user::text as who, current_setting('request.jwt.claims', true) as claims`;
    expect(after.who).not.toBe("authenticated");
    expect(after.claims ?? "").toBe("");
  });
});
