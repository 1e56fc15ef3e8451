// Regression (issue 14, target 5: "next pages by keyset as fast"): a coordinator's list page late in
// a large chapter must check the row-level policies for about a page's rows, as the first page
// does. The planner used to join every member after the cursor and sort the result, because the
// cursor leaves few members by the statistics and the policies' filters are guessed at a third of
// each join: bench scenario 5 measured 10-30 ms for the pages past the middle of a 2,000-mentor
// chapter against 5-8 ms before it. The plan is read as the function sends the statement.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { explainAs } from "../../bench/explain.ts";
import { seedStatusDataset, type StatusDataset } from "../../bench/seed.ts";
import { listSyncStatus } from "../../shared/status-queries.ts";
import { claims, createTestDatabase, type TestDatabase } from "../support/db.ts";

const PAGE = 50;

let db: TestDatabase;
let data: StatusDataset;
let members: string[];

beforeAll(async () => {
  db = await createTestDatabase();
  data = await seedStatusDataset(db.sql, {
    mentors: 20_000,
    bigChapterSize: 2_000,
    chapters: 10,
    attemptsPerMentor: 1,
  });
  await db.sql`analyze`;
  members = data.chapterMentorIds.toSorted();
}, 120_000);

afterAll(() => db?.close());

const coordinator = () => ({
  role: "authenticated" as const,
  userId: data.coordinatorId,
  claims: claims.user(data.coordinatorId),
});

/** How many times the plan looked a mentor up (and checked its policy) for one page. */
async function mentorLookups(after: string | undefined): Promise<number> {
  const plan = await explainAs(
    db.sql,
    coordinator(),
    (sql) =>
      listSyncStatus(sql, { chapterId: data.chapterId, limit: PAGE, after, onlyViewable: true }),
  );
  const line = plan.split("\n").find((l) => /Index Scan using \S+ on peer_mentors m\b/.test(l));
  const loops = /loops=(\d+)/.exec(line ?? "")?.[1];
  if (loops === undefined) throw new Error(`no mentor lookup in the plan:\n${plan}`);
  return Number(loops);
}

const positions = [0.5, 0.75, 0.9];

async function expectEveryPageToStopAtItsEnd() {
  expect(await mentorLookups(undefined)).toBeLessThanOrEqual(PAGE + 1);
  for (const at of positions) {
    const after = members[Math.floor(members.length * at)];
    expect(members.filter((id) => id > after).length).toBeGreaterThan(2 * PAGE);
    expect(await mentorLookups(after), `a page ${at * 100} % into the chapter`)
      .toBeLessThanOrEqual(PAGE + 1);
  }
}

describe("a coordinator's list pages by keyset", () => {
  it("each looks up about a page of mentors while memberships are freshly written", async () => {
    // Seeded and analysed, never vacuumed: an index-only scan would still read the heap, so the
    // planner's other paths look cheap (what flipped the late pages' plan).
    await expectEveryPageToStopAtItsEnd();
  });

  it("and once a vacuum made every page all-visible", async () => {
    await db.sql`vacuum analyze public.mentor_chapters`;
    await expectEveryPageToStopAtItsEnd();
  });
});
