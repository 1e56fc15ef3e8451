// Demo data for the local stack: two organisations, three chapters, coordinators, and mentors, one
// of them in two chapters. Fixed ids, so the README's examples and the printed JWTs keep working;
// loading it twice changes nothing.
import type postgres from "postgres";

export const DEMO = {
  organisationId: "0a000000-0000-4000-8000-000000000001",
  otherOrganisationId: "0a000000-0000-4000-8000-000000000002",
  chapterOsloId: "0c000000-0000-4000-8000-000000000001",
  chapterBergenId: "0c000000-0000-4000-8000-000000000002",
  chapterOtherOrgId: "0c000000-0000-4000-8000-000000000003",
  coordinatorUserId: "0e000000-0000-4000-8000-000000000001",
  coordinatorEmail: "coordinator.oslo@example.org",
  otherCoordinatorUserId: "0e000000-0000-4000-8000-000000000002",
  otherCoordinatorEmail: "coordinator.other-org@example.org",
  mentorUserId: "0e000000-0000-4000-8000-000000000003",
  /** Certified, listed, in Oslo and Bergen: the one to expire in the README walk-through. */
  mentorId: "0d000000-0000-4000-8000-000000000001",
  secondMentorId: "0d000000-0000-4000-8000-000000000002",
  otherOrgMentorId: "0d000000-0000-4000-8000-000000000003",
} as const;

const MENTOR_EMAIL = "mentor.kari@example.org";

/** The demo rows, table by table in foreign-key order; each row's columns as the table names them. */
function demoRows(d: typeof DEMO): Array<[table: string, rows: Record<string, string | null>[]]> {
  return [
    ["auth.users", [
      { id: d.coordinatorUserId, email: d.coordinatorEmail },
      { id: d.otherCoordinatorUserId, email: d.otherCoordinatorEmail },
      { id: d.mentorUserId, email: MENTOR_EMAIL },
    ]],
    ["public.organisations", [
      { id: d.organisationId, name: "HLF Norge" },
      { id: d.otherOrganisationId, name: "Other Organisation" },
    ]],
    ["public.chapters", [
      { id: d.chapterOsloId, organisation_id: d.organisationId, name: "Oslo" },
      { id: d.chapterBergenId, organisation_id: d.organisationId, name: "Bergen" },
      { id: d.chapterOtherOrgId, organisation_id: d.otherOrganisationId, name: "Elsewhere" },
    ]],
    ["public.chapter_memberships", [
      { user_id: d.coordinatorUserId, chapter_id: d.chapterOsloId, role: "coordinator" },
      { user_id: d.otherCoordinatorUserId, chapter_id: d.chapterOtherOrgId, role: "coordinator" },
      { user_id: d.mentorUserId, chapter_id: d.chapterOsloId, role: "peer_mentor" },
    ]],
    ["public.peer_mentors", [
      {
        id: d.mentorId,
        user_id: d.mentorUserId,
        full_name: "Kari Nordmann",
        email: MENTOR_EMAIL,
        phone: "+47 400 00 001",
      },
      {
        id: d.secondMentorId,
        user_id: null,
        full_name: "Ola Hansen",
        email: "ola@example.org",
        phone: null,
      },
      {
        id: d.otherOrgMentorId,
        user_id: null,
        full_name: "Eva Berg",
        email: "eva@example.org",
        phone: null,
      },
    ]],
    ["public.mentor_chapters", [
      { mentor_id: d.mentorId, chapter_id: d.chapterOsloId },
      { mentor_id: d.mentorId, chapter_id: d.chapterBergenId },
      { mentor_id: d.secondMentorId, chapter_id: d.chapterBergenId },
      { mentor_id: d.otherOrgMentorId, chapter_id: d.chapterOtherOrgId },
    ]],
  ];
}

export async function seedDemo(sql: postgres.Sql): Promise<void> {
  const d = DEMO;
  await sql.begin(async (tx) => {
    // Rows already there (a second load) are left as they are.
    for (const [table, rows] of demoRows(d)) {
      await tx`insert into ${tx(table)} ${tx(rows)} on conflict do nothing`;
    }
    await tx`
      insert into public.certifications (mentor_id, status, issued_at, expires_at)
      select m.id, 'active', now() - interval '300 days', now() + interval '65 days'
      from public.peer_mentors m
      where m.id in (${d.mentorId}, ${d.secondMentorId}, ${d.otherOrgMentorId})
      on conflict (mentor_id) do nothing`;
  });
}
