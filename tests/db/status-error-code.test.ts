// The status row carries the technical error code of the mentor's latest event (migration
// 20261123181000), so a status read takes it from there instead of looking the event up under
// sync_events' row-level security: written by the outbox's status refresh, refreshed when only the
// code changes, backfilled for the rows that existed before, and what a coordinator's read maps to
// its errorCode.
import { readFile } from "node:fs/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApp as syncStatusApp } from "../../functions/sync-status/app.ts";
import { splitSqlStatements } from "../../local/db/sql-statements.ts";
import { createTestDatabase, type TestDatabase } from "../support/db.ts";
import {
  createChapter,
  createCoordinator,
  createListedMentor,
  createOrganisation,
} from "../support/factories.ts";
import { inProcessRuntime } from "../support/inbound-delivery.ts";
import { mintJwt } from "../support/tokens.ts";

const JWT_SECRET = "status-error-code-test-secret-long-enough-for-hs256";
const MIGRATION = new URL(
  "../../migrations/20261123181000_status_carries_error_code.sql",
  import.meta.url,
);

let db: TestDatabase;
let app: ReturnType<typeof syncStatusApp>;
let token: string;
let chapter: string;

beforeAll(async () => {
  db = await createTestDatabase();
  chapter = (await createChapter(db.sql, { organisationId: (await createOrganisation(db.sql)).id }))
    .id;
  const coordinator = (await createCoordinator(db.sql, [chapter])).id;
  const { runtime } = inProcessRuntime(db, { JWT_SECRET });
  app = syncStatusApp(runtime);
  token = await mintJwt(JWT_SECRET, {
    role: "authenticated",
    sub: coordinator,
    issuer: runtime.config.callers!.authUrl,
  });
});
afterAll(() => db?.close());

/** A listed mentor of the coordinator's chapter whose latest event gave up with `code`. */
async function failedMentor(code: string): Promise<{ mentorId: string; eventId: string }> {
  const { mentorId } = await createListedMentor(db.sql, { chapterIds: [chapter] });
  const [{ eventId }] = await db.sql<{ eventId: string }[]>`
    update public.sync_events set state = 'failed', attempts = 3, last_error = 'refused',
      last_error_code = ${code}
    where id = (select max(id) from public.sync_events where mentor_id = ${mentorId})
    returning event_id as "eventId"`;
  return { mentorId, eventId };
}

async function storedCode(mentorId: string): Promise<string | null> {
  const [row] = await db.sql<{ code: string | null }[]>`
    select last_error_code as code from public.mentor_sync_status where mentor_id = ${mentorId}`;
  return row.code;
}

async function readErrorCode(mentorId: string): Promise<unknown> {
  const res = await app.request(`/sync-status?mentorId=${mentorId}`, {
    headers: { authorization: `Bearer ${token}` },
  });
  expect(res.status).toBe(200);
  return ((await res.json()) as { errorCode: unknown }).errorCode;
}

describe("the status row's error code", () => {
  it("is written with the failure and is what the coordinator's read maps", async () => {
    const { mentorId } = await failedMentor("http_410");
    expect(await storedCode(mentorId)).toBe("http_410");
    expect(await readErrorCode(mentorId)).toBe("dynamics_gone");
  });

  it("follows the event when only the code changes", async () => {
    const { mentorId, eventId } = await failedMentor("http_410");
    await db
      .sql`update public.sync_events set last_error_code = 'http_429' where event_id = ${eventId}`;
    expect(await storedCode(mentorId)).toBe("http_429");
    expect(await readErrorCode(mentorId)).toBe("dynamics_throttled");
  });

  it("is backfilled by the migration for the status rows that existed before it", async () => {
    const { mentorId } = await failedMentor("http_503");
    // The shape before the migration (its view depends on the column), with this row's data.
    await db.sql`alter table public.mentor_sync_status drop column last_error_code cascade`;
    const statements = splitSqlStatements(await readFile(MIGRATION, "utf8"));
    await db.sql.begin(async (tx) => {
      for (const statement of statements) await tx.unsafe(statement);
    });
    expect(await storedCode(mentorId)).toBe("http_503");
    expect(await readErrorCode(mentorId)).toBe("dynamics_unreachable");
  });
});
