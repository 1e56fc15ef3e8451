// Set-based fixtures for the benchmarks (generate_series, one statement per table). Triggers are
// off while seeding (session_replication_role = replica) and the derived tables they would
// maintain are written directly, so a seeded mentor is "listed and synced" without thousands of
// outbox events to drain first. Only the database owner may do this; the stack's client is it.
import type postgres from "postgres";

type Sql = postgres.Sql;

export interface SeedMentorsOptions {
  /** Index of the first mentor (names and emails stay unique across calls). */
  from?: number;
  /** Already past expires_at but still active and listed: the nightly job's workload. */
  lapsed?: boolean;
  /** Put every mentor in this chapter. */
  chapterId?: string;
}

/**
 * `count` listed mentors with active certifications, already synced: triggers off, no outbox
 * events (tests' seedMentorsWithPendingEvents goes through the triggers instead). Returns the
 * mentor ids in creation order.
 */
export async function seedSyncedMentors(
  sql: Sql,
  count: number,
  o: SeedMentorsOptions = {},
): Promise<string[]> {
  const from = o.from ?? 1;
  const expiresAt = o.lapsed ? "now() - interval '1 minute'" : "now() + interval '1 year'";
  return await sql.begin(async (tx) => {
    await tx`set local session_replication_role = replica`;
    const rows = await tx<{ id: string }[]>`
      insert into public.peer_mentors (full_name, email, status)
      select 'Bench mentor ' || g, 'bench' || g || '@example.test', 'active'
        from generate_series(${from}::int, ${from + count - 1}::int) g
       order by g
      returning id`;
    const ids = rows.map((r) => r.id);
    await tx.unsafe(
      `insert into public.certifications (mentor_id, status, issued_at, expires_at)
       select id, 'active', now() - interval '1 year', ${expiresAt} from unnest($1::uuid[]) id`,
      [ids],
    );
    await tx`
      insert into public.mentor_listing_state (mentor_id, listed)
      select id, true from unnest(${ids}::uuid[]) id`;
    await tx`
      insert into public.mentor_sync_status (mentor_id, state, listing)
      select id, 'synced', 'listed' from unnest(${ids}::uuid[]) id`;
    if (o.chapterId) {
      await tx`
        insert into public.mentor_chapters (mentor_id, chapter_id)
        select id, ${o.chapterId} from unnest(${ids}::uuid[]) id`;
    }
    return ids;
  }) as string[];
}

export interface StatusDataset {
  coordinatorId: string;
  /** The coordinator's chapter (`bigChapterSize` mentors). */
  chapterId: string;
  /** Mentors of that chapter, for by-mentor queries the coordinator may see. */
  chapterMentorIds: string[];
}

/** The large install scenarios 5 and 6 run on (100,000 mentors, 1,000,000 attempts), and its smoke size. */
export function statusDatasetSize(smoke: boolean) {
  return smoke
    ? { mentors: 2_000, bigChapterSize: 200, chapters: 10, attemptsPerMentor: 10 }
    : { mentors: 100_000, bigChapterSize: 2_000, chapters: 50, attemptsPerMentor: 10 };
}

/**
 * The status scenario's data: `mentors` mentors spread over chapters of one organisation, the first
 * chapter holding `bigChapterSize` of them and coordinated by the returned user; one delivered
 * sync event per mentor and `attemptsPerMentor` audit rows for each, the last minutes' worth unless
 * `spreadDays` spreads each mentor's attempts back over that many days (a long-running install).
 */
export async function seedStatusDataset(
  sql: Sql,
  o: {
    mentors: number;
    bigChapterSize: number;
    chapters: number;
    attemptsPerMentor: number;
    spreadDays?: number;
  },
): Promise<StatusDataset> {
  return await sql.begin(async (tx) => {
    await tx`set local session_replication_role = replica`;
    const [org] = await tx<{ id: string }[]>`
      insert into public.organisations (name) values ('Bench organisation') returning id`;
    const chapters = await tx<{ id: string }[]>`
      insert into public.chapters (organisation_id, name)
      select ${org.id}, 'Bench chapter ' || g from generate_series(1, ${o.chapters}::int) g
       order by g
      returning id`;
    const chapterIds = chapters.map((c) => c.id);
    await tx`
      create temporary table bench_mentors on commit drop as
      with m as (
        insert into public.peer_mentors (full_name, email, status)
        select 'Status mentor ' || g, 'status' || g || '@example.test', 'active'
          from generate_series(1, ${o.mentors}::int) g
        returning id
      )
      select id, row_number() over () as n from m`;
    // The first bigChapterSize mentors form chapter 1; the rest are dealt round-robin to the others.
    await tx`
      insert into public.mentor_chapters (mentor_id, chapter_id)
      select b.id, (${chapterIds}::uuid[])[
        case when b.n <= ${o.bigChapterSize} then 1
             else 2 + (b.n % greatest(${o.chapters}::int - 1, 1)) end]
        from bench_mentors b`;
    await tx`
      insert into public.certifications (mentor_id, status, issued_at, expires_at)
      select id, 'active', now() - interval '1 year', now() + interval '1 year' from bench_mentors`;
    await tx`
      insert into public.mentor_listing_state (mentor_id, listed)
      select id, true from bench_mentors`;
    await tx`
      insert into public.sync_events (mentor_id, event_type, certification_status, expiry_date,
        state, attempts, rounds, delivered_at)
      select id, 'certification.renewed', 'active', now() + interval '1 year',
             'delivered', ${o.attemptsPerMentor}, 1, now()
        from bench_mentors`;
    await tx`
      insert into public.dynamics_sync_attempts (event_id, mentor_id, attempt, dispatcher,
        started_at, finished_at, duration_ms, http_status, outcome, error_code)
      select e.event_id, e.mentor_id, a, 'bench', t.at, t.at + interval '40 ms',
             40,
             case when a = ${o.attemptsPerMentor}::int then 200 else 503 end,
             case when a = ${o.attemptsPerMentor}::int then 'delivered' else 'retryable' end,
             case when a = ${o.attemptsPerMentor}::int then null else 'http_503' end
        from public.sync_events e
        cross join generate_series(1, ${o.attemptsPerMentor}::int) a
        cross join lateral (
          select now() - make_interval(mins => ${o.attemptsPerMentor}::int - a)
                 - make_interval(days => ${o.spreadDays ?? 0}::int) * e.id::float8
                   / (select max(id) from public.sync_events) as at
        ) t`;
    await tx`
      insert into public.mentor_sync_status (mentor_id, state, listing, last_event_id,
        last_event_type, last_attempt_at, last_success_at, attempts)
      select e.mentor_id, 'synced', 'listed', e.event_id, e.event_type, now(), now(), e.attempts
        from public.sync_events e`;
    const [user] = await tx<{ id: string }[]>`
      insert into auth.users (id, aud, role, email)
      values (gen_random_uuid(), 'authenticated', 'authenticated', 'bench-coordinator@example.test')
      returning id`;
    await tx`
      insert into public.chapter_memberships (user_id, chapter_id, role)
      values (${user.id}, ${chapterIds[0]}, 'coordinator')`;
    const members = await tx<{ mentor_id: string }[]>`
      select mentor_id from public.mentor_chapters where chapter_id = ${chapterIds[0]}`;
    return {
      coordinatorId: user.id,
      chapterId: chapterIds[0],
      chapterMentorIds: members.map((m) => m.mentor_id),
    };
  }) as StatusDataset;
}
