// Fixture factories for the data model. Each takes the SQL client to write with (normally the test
// database's owner connection, which bypasses RLS) and overrides; defaults are valid and unique.
import { randomUUID } from "node:crypto";
import type postgres from "postgres";

type Sql = postgres.Sql | postgres.TransactionSql;

const DAY_MS = 86_400_000;

let sequence = 0;
const next = () => ++sequence;

export const daysFromNow = (days: number): Date => new Date(Date.now() + days * DAY_MS);

export interface Row {
  id: string;
}

export async function createOrganisation(sql: Sql, o: { name?: string } = {}): Promise<Row> {
  const [row] = await sql<Row[]>`
    insert into public.organisations (name) values (${o.name ?? `Organisation ${next()}`})
    returning id`;
  return row;
}

export async function createChapter(
  sql: Sql,
  o: { organisationId: string; name?: string },
): Promise<Row> {
  const [row] = await sql<Row[]>`
    insert into public.chapters (organisation_id, name)
    values (${o.organisationId}, ${o.name ?? `Chapter ${next()}`})
    returning id`;
  return row;
}

export async function createUser(sql: Sql, o: { email?: string } = {}): Promise<Row> {
  const id = randomUUID();
  await sql`
    insert into auth.users (id, aud, role, email)
    values (${id}, 'authenticated', 'authenticated', ${o.email ?? `user${next()}@example.test`})`;
  return { id };
}

export async function addMembership(
  sql: Sql,
  o: { userId: string; chapterId: string; role: "coordinator" | "peer_mentor" },
): Promise<void> {
  await sql`
    insert into public.chapter_memberships (user_id, chapter_id, role)
    values (${o.userId}, ${o.chapterId}, ${o.role})`;
}

/** A coordinator login for each given chapter. */
export async function createCoordinator(sql: Sql, chapterIds: string[]): Promise<Row> {
  const user = await createUser(sql);
  for (const chapterId of chapterIds) {
    await addMembership(sql, { userId: user.id, chapterId, role: "coordinator" });
  }
  return user;
}

export async function createMentor(
  sql: Sql,
  o: {
    chapterIds?: string[];
    userId?: string | null;
    fullName?: string;
    status?: "active" | "paused";
  } = {},
): Promise<Row> {
  const n = next();
  const [row] = await sql<Row[]>`
    insert into public.peer_mentors (user_id, full_name, email, phone, status)
    values (${o.userId ?? null}, ${o.fullName ?? `Mentor ${n}`}, ${`mentor${n}@example.test`},
            ${`+47 400 ${String(n).padStart(5, "0")}`}, ${o.status ?? "active"})
    returning id`;
  for (const chapterId of o.chapterIds ?? []) {
    await sql`insert into public.mentor_chapters (mentor_id, chapter_id) values (${row.id}, ${chapterId})`;
  }
  return row;
}

export async function createCertification(
  sql: Sql,
  o: {
    mentorId: string;
    status?: "active" | "expired" | "paused" | "revoked";
    issuedAt?: Date;
    expiresAt?: Date;
    renewalHistory?: postgres.JSONValue;
  },
): Promise<Row> {
  const [row] = await sql<Row[]>`
    insert into public.certifications (mentor_id, status, issued_at, expires_at, renewal_history)
    values (${o.mentorId}, ${o.status ?? "active"}, ${o.issuedAt ?? daysFromNow(-300)},
            ${o.expiresAt ?? daysFromNow(65)}, ${sql.json(o.renewalHistory ?? [])})
    returning id`;
  return row;
}

/** A mentor in the given chapters with an active certification expiring in `expiresInDays`. */
export async function createListedMentor(
  sql: Sql,
  o: { chapterIds?: string[]; userId?: string | null; expiresInDays?: number } = {},
): Promise<{ mentorId: string; certificationId: string }> {
  const mentor = await createMentor(sql, { chapterIds: o.chapterIds, userId: o.userId });
  const cert = await createCertification(sql, {
    mentorId: mentor.id,
    expiresAt: daysFromNow(o.expiresInDays ?? 65),
  });
  return { mentorId: mentor.id, certificationId: cert.id };
}

/**
 * Moves certifications' expiry one minute into the past WITHOUT firing triggers: this simulates
 * time passing (no write happened), so the listing state still says "listed" until the nightly
 * job or another write notices.
 */
export async function letCertificationsLapse(
  sql: postgres.Sql,
  certificationIds: string[],
): Promise<void> {
  await sql.begin(async (tx) => {
    await tx`set local session_replication_role = replica`;
    await tx`
      update public.certifications set expires_at = now() - interval '1 minute'
       where id = any(${certificationIds}::uuid[])`;
  });
}

/** `count` mentors with active certifications expiring `expiresIn` from now, seeded set-based. */
async function seedCertifiedMentors(
  sql: postgres.Sql,
  count: number,
  expiresIn: string,
): Promise<{ mentorId: string; certificationId: string }[]> {
  return await sql<{ mentorId: string; certificationId: string }[]>`
    with mentors as (
      insert into public.peer_mentors (full_name, status)
      select 'Bulk mentor ' || g, 'active' from generate_series(1, ${count}) g
      returning id
    )
    insert into public.certifications (mentor_id, status, issued_at, expires_at)
    select id, 'active', now() - interval '1 year', now() + ${expiresIn}::interval from mentors
    returning mentor_id as "mentorId", id as "certificationId"`;
}

/**
 * `count` listed mentors, seeded set-based through the triggers: each listing writes one pending
 * `renewed` event (bench's seedSyncedMentors writes synced mentors without events).
 */
export async function seedMentorsWithPendingEvents(
  sql: postgres.Sql,
  count: number,
): Promise<string[]> {
  return (await seedCertifiedMentors(sql, count, "1 year")).map((r) => r.mentorId);
}

/**
 * `count` listed mentors whose active certifications have lapsed (the nightly job's workload),
 * seeded set-based. Returns the certification ids.
 */
export async function seedLapsedCertifications(
  sql: postgres.Sql,
  count: number,
): Promise<string[]> {
  const ids = (await seedCertifiedMentors(sql, count, "1 day")).map((r) => r.certificationId);
  await letCertificationsLapse(sql, ids);
  return ids;
}

/**
 * Marks every outbox event delivered and unleased, so a test starts from an empty outbox (the
 * listing triggers wrote events for the mentors earlier tests created).
 */
export async function settleOutbox(sql: Sql): Promise<void> {
  await sql`update public.sync_events set state = 'delivered', lease_owner = null, lease_expires_at = null`;
}
