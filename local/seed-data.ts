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

export async function seedDemo(sql: postgres.Sql): Promise<void> {
  const d = DEMO;
  await sql.begin(async (tx) => {
    await tx`
      insert into auth.users (id, email) values
        (${d.coordinatorUserId}, ${d.coordinatorEmail}),
        (${d.otherCoordinatorUserId}, ${d.otherCoordinatorEmail}),
        (${d.mentorUserId}, 'mentor.kari@example.org')
      on conflict (id) do nothing`;
    await tx`
      insert into public.organisations (id, name) values
        (${d.organisationId}, 'HLF Norge'), (${d.otherOrganisationId}, 'Other Organisation')
      on conflict (id) do nothing`;
    await tx`
      insert into public.chapters (id, organisation_id, name) values
        (${d.chapterOsloId}, ${d.organisationId}, 'Oslo'),
        (${d.chapterBergenId}, ${d.organisationId}, 'Bergen'),
        (${d.chapterOtherOrgId}, ${d.otherOrganisationId}, 'Elsewhere')
      on conflict (id) do nothing`;
    await tx`
      insert into public.chapter_memberships (user_id, chapter_id, role) values
        (${d.coordinatorUserId}, ${d.chapterOsloId}, 'coordinator'),
        (${d.otherCoordinatorUserId}, ${d.chapterOtherOrgId}, 'coordinator'),
        (${d.mentorUserId}, ${d.chapterOsloId}, 'peer_mentor')
      on conflict do nothing`;
    await tx`
      insert into public.peer_mentors (id, user_id, full_name, email, phone) values
        (${d.mentorId}, ${d.mentorUserId}, 'Kari Nordmann', 'mentor.kari@example.org', '+47 400 00 001'),
        (${d.secondMentorId}, null, 'Ola Hansen', 'ola@example.org', null),
        (${d.otherOrgMentorId}, null, 'Eva Berg', 'eva@example.org', null)
      on conflict (id) do nothing`;
    await tx`
      insert into public.mentor_chapters (mentor_id, chapter_id) values
        (${d.mentorId}, ${d.chapterOsloId}), (${d.mentorId}, ${d.chapterBergenId}),
        (${d.secondMentorId}, ${d.chapterBergenId}), (${d.otherOrgMentorId}, ${d.chapterOtherOrgId})
      on conflict do nothing`;
    await tx`
      insert into public.certifications (mentor_id, status, issued_at, expires_at)
      select m.id, 'active', now() - interval '300 days', now() + interval '65 days'
      from public.peer_mentors m
      where m.id in (${d.mentorId}, ${d.secondMentorId}, ${d.otherOrgMentorId})
      on conflict (mentor_id) do nothing`;
  });
}
