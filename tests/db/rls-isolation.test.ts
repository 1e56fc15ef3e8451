// Isolation matrix: for each role and each table/view, exactly the rows it may read, and whether
// it may write. Two organisations; mentor "shared" belongs to chapters A1 and A2.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  asRole,
  claims,
  createTestDatabase,
  type JwtClaims,
  type TestDatabase,
} from "../support/db.ts";
import {
  type ChapterName,
  createIsolationWorld,
  type IsolationWorld,
  type Mentor,
  MENTORS,
} from "../support/isolation-world.ts";

let db: TestDatabase;

type Actor = "anon" | "mentorA1" | "coordA1" | "coordA2" | "coordB1" | "service";

type World = IsolationWorld<Exclude<Actor, "anon" | "service">>;
let w: World;

beforeAll(async () => {
  db = await createTestDatabase();
  const sql = db.sql;
  w = await createIsolationWorld(sql);
  const { mentors } = w;
  // One row of every sync/audit table per mentor.
  for (const name of MENTORS) {
    const [event] = await sql`
      select event_id from public.sync_events where mentor_id = ${mentors[name]} limit 1`;
    await sql`
      insert into public.dynamics_sync_attempts
        (event_id, mentor_id, attempt, dispatcher, started_at, outcome)
      values (${event.event_id}, ${mentors[name]}, 1, 'test', now(), 'delivered')`;
    await sql`
      insert into public.cert_notification_log (event_id, event_type, mentor_id, payload, status)
      values (gen_random_uuid(), 'listing.confirmed', ${mentors[name]}, '{}', 'applied')`;
    await sql`insert into public.sync_issues (mentor_id, kind) values (${mentors[name]}, 'drift')`;
  }
  await sql`insert into public.sync_settings (key, value) values ('hlf_functions_url', 'http://x')`;
});
afterAll(async () => {
  await db?.close();
});

function jwtFor(actor: Actor): JwtClaims {
  if (actor === "anon") return claims.anon();
  if (actor === "service") return claims.service();
  return claims.user(w.users[actor]);
}

/** How a table's rows are named in expectations: by mentor, chapter, organisation... */
interface TableSpec {
  table: string;
  key: string;
  label: (row: Record<string, unknown>) => string;
}

const byMentor = (row: Record<string, unknown>) =>
  MENTORS.find((m) => w.mentors[m] === row.mentor_id) ?? "?";
const byChapter = (row: Record<string, unknown>) =>
  (Object.keys(w.chapters) as ChapterName[]).find((c) => w.chapters[c] === row.chapter_id) ?? "?";

const mentorTables = [
  "certifications",
  "mentor_listing_state",
  "sync_events",
  "mentor_sync_status",
  "dynamics_sync_attempts",
  "coordinator_sync_overview",
].map((table): TableSpec => ({ table, key: "mentor_id", label: byMentor }));

const TABLES: TableSpec[] = [
  ...mentorTables,
  { table: "peer_mentors", key: "id", label: (r) => byMentor({ mentor_id: r.id }) },
  { table: "cert_notification_log", key: "mentor_id", label: byMentor },
  { table: "sync_issues", key: "mentor_id", label: byMentor },
  { table: "sync_settings", key: "key", label: (r) => String(r.key) },
  { table: "organisations", key: "id", label: (r) => (r.id === w.orgs.A ? "A" : "B") },
  { table: "chapters", key: "id", label: (r) => byChapter({ chapter_id: r.id }) },
  {
    table: "mentor_chapters",
    key: "mentor_id",
    label: (r) => `${byMentor(r)}@${byChapter(r)}`,
  },
  {
    table: "chapter_memberships",
    key: "user_id",
    label: (r) => {
      const who = Object.entries(w.users).find(([, id]) => id === r.user_id)?.[0];
      return `${who}@${byChapter(r)}`;
    },
  },
];

const ALL_MENTORS = ["onlyA1", "onlyA2", "onlyB1", "shared"];
const ownMentor = ["onlyA1"];
const a1Mentors = ["onlyA1", "shared"];
const a2Mentors = ["onlyA2", "shared"];
const b1Mentors = ["onlyB1"];
const DENIED = "denied";

type Visible = string[] | typeof DENIED;

/** Expected visible rows: actor -> table -> sorted labels, or "denied" (no privilege at all). */
function expectedRows(actor: Actor, table: string): Visible {
  const mentorsFor: Record<Exclude<Actor, "anon" | "service">, string[]> = {
    mentorA1: ownMentor,
    coordA1: a1Mentors,
    coordA2: a2Mentors,
    coordB1: b1Mentors,
  };
  if (actor === "anon") return DENIED;
  if (actor === "service") {
    return {
      sync_settings: ["hlf_functions_url"],
      organisations: ["A", "B"],
      chapters: ["A1", "A2", "B1"],
      mentor_chapters: ["onlyA1@A1", "onlyA2@A2", "onlyB1@B1", "shared@A1", "shared@A2"],
      chapter_memberships: ["coordA1@A1", "coordA2@A2", "coordB1@B1", "mentorA1@A1"],
    }[table] ?? ALL_MENTORS;
  }
  const isCoordinator = actor !== "mentorA1";
  const chapter = { mentorA1: "A1", coordA1: "A1", coordA2: "A2", coordB1: "B1" }[actor];
  switch (table) {
    case "sync_settings":
      return DENIED;
    case "organisations":
      return [chapter === "B1" ? "B" : "A"];
    case "chapters":
      return [chapter];
    case "mentor_chapters":
      return actor === "mentorA1"
        ? ["onlyA1@A1"]
        : mentorsFor[actor].map((m) => `${m}@${chapter}`).sort();
    case "chapter_memberships":
      return actor === "coordA1" ? ["coordA1@A1", "mentorA1@A1"] : [`${actor}@${chapter}`];
    case "cert_notification_log":
    case "sync_issues":
      return isCoordinator ? mentorsFor[actor] : [];
    default:
      return mentorsFor[actor];
  }
}

const ACTORS: Actor[] = ["anon", "mentorA1", "coordA1", "coordA2", "coordB1", "service"];

async function visibleRows(actor: Actor, spec: TableSpec): Promise<Visible> {
  try {
    const rows = await asRole(
      db.sql,
      jwtFor(actor),
      (tx) => tx`select * from ${tx("public." + spec.table)}`,
    );
    return rows.map(spec.label).sort();
  } catch (error) {
    if ((error as { code?: string }).code === "42501") return DENIED;
    throw error;
  }
}

describe("row-level security: reads", () => {
  for (const actor of ACTORS) {
    it.each(TABLES.map((t) => [t.table, t] as const))(`${actor} reads %s`, async (_t, spec) => {
      expect(await visibleRows(actor, spec)).toEqual(expectedRows(actor, spec.table));
    });
  }
});

/** Outcome of a write as the actor: rows changed, "denied" (no privilege) or "not found". */
async function tryUpdate(
  actor: Actor,
  statement: string,
  mentor: Mentor,
): Promise<number | string> {
  try {
    return await asRole(db.sql, jwtFor(actor), async (tx) => {
      const result = await tx.unsafe(statement, [w.mentors[mentor]]);
      // Roll back so each cell of the matrix starts from the same data.
      throw Object.assign(new Error("rollback"), { changed: result.count });
    });
  } catch (error) {
    const e = error as { changed?: number; code?: string };
    if (e.changed !== undefined) return e.changed;
    if (e.code === "42501") return DENIED;
    if (e.code === "P0002") return NOT_FOUND;
    throw error;
  }
}

const WRITES = {
  "pause mentor": "update public.peer_mentors set status = 'paused' where id = $1",
  "rename mentor": "update public.peer_mentors set full_name = 'x' where id = $1",
  "revoke certification":
    "update public.certifications set status = 'revoked' where mentor_id = $1",
  "renew certification":
    "select public.append_certification_renewal(c.id, now(), now() + interval '1 year') from public.certifications c where c.mentor_id = $1",
  "edit sync event": "update public.sync_events set state = 'held' where mentor_id = $1",
  "edit sync status": "update public.mentor_sync_status set state = 'held' where mentor_id = $1",
  "insert attempt":
    "insert into public.dynamics_sync_attempts (event_id, mentor_id, attempt, dispatcher, started_at, outcome) select event_id, mentor_id, 9, 'x', now(), 'auth' from public.sync_events where mentor_id = $1 limit 1",
  "insert notification":
    "insert into public.cert_notification_log (event_id, event_type, mentor_id, payload, status) values (gen_random_uuid(), 'x', $1, '{}', 'applied')",
  "insert sync issue": "insert into public.sync_issues (mentor_id, kind) values ($1, 'drift')",
  "delete certification": "delete from public.certifications where mentor_id = $1",
} as const;
type Write = keyof typeof WRITES;

const MENTOR_CHAPTERS: Record<Mentor, ChapterName[]> = {
  onlyA1: ["A1"],
  shared: ["A1", "A2"],
  onlyA2: ["A2"],
  onlyB1: ["B1"],
};
const COORDINATES: Partial<Record<Actor, ChapterName>> = {
  coordA1: "A1",
  coordA2: "A2",
  coordB1: "B1",
};
const NOT_FOUND = "not found";

/**
 * Coordinators write status and certifications of their chapters' mentors; a row the actor cannot
 * see is simply not matched (0 rows); a mentor may see but not renew their own certification.
 */
function expectedWrite(actor: Actor, write: Write, mentor: Mentor): number | string {
  if (actor === "service") return 1;
  if (actor === "anon") return DENIED;
  const chapter = COORDINATES[actor];
  const coordinates = chapter !== undefined && MENTOR_CHAPTERS[mentor].includes(chapter);
  switch (write) {
    case "pause mentor":
    case "revoke certification":
      return coordinates ? 1 : 0;
    case "renew certification":
      if (coordinates) return 1;
      return actor === "mentorA1" && mentor === "onlyA1" ? NOT_FOUND : 0;
    default:
      return DENIED;
  }
}

describe("row-level security: writes", () => {
  const cells = ACTORS.flatMap((actor) =>
    (Object.keys(WRITES) as Write[]).flatMap((write) =>
      (["onlyA1", "shared", "onlyB1"] as Mentor[]).map((mentor) => [actor, write, mentor] as const)
    )
  );
  it.each(cells)("%s: %s of %s", async (actor, write, mentor) => {
    const outcome = await tryUpdate(actor, WRITES[write], mentor);
    expect(outcome).toBe(expectedWrite(actor, write, mentor));
  });
});
