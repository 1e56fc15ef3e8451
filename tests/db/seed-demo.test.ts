import { describe, expect, it } from "vitest";
import { useTestDatabase } from "../support/db.ts";
import { DEMO, seedDemo } from "../../local/seed-data.ts";

const db = useTestDatabase();

describe("the local stack's demo data (npm start -- --seed)", () => {
  it("loads what the README walks through, and loading it again changes nothing", async () => {
    await seedDemo(db().sql);
    const counts = async () =>
      await db().sql`
        select (select count(*)::int from auth.users) as users,
               (select count(*)::int from public.organisations) as organisations,
               (select count(*)::int from public.chapters) as chapters,
               (select count(*)::int from public.chapter_memberships) as memberships,
               (select count(*)::int from public.peer_mentors) as mentors,
               (select count(*)::int from public.mentor_chapters) as mentor_chapters,
               (select count(*)::int from public.certifications where status = 'active') as active`;
    const first = await counts();
    expect(first).toEqual([{
      users: 3,
      organisations: 2,
      chapters: 3,
      memberships: 3,
      mentors: 3,
      mentor_chapters: 4,
      active: 3,
    }]);
    await seedDemo(db().sql);
    expect(await counts()).toEqual(first);

    const kari = await db().sql`
      select m.user_id, m.phone, array_agg(c.name order by c.name) as chapters
        from public.peer_mentors m
        join public.mentor_chapters mc on mc.mentor_id = m.id
        join public.chapters c on c.id = mc.chapter_id
       where m.id = ${DEMO.mentorId}
       group by m.user_id, m.phone`;
    expect(kari).toEqual([
      { user_id: DEMO.mentorUserId, phone: "+47 400 00 001", chapters: ["Bergen", "Oslo"] },
    ]);
    const [coordinator] = await db().sql`
      select role from public.chapter_memberships
       where user_id = ${DEMO.coordinatorUserId} and chapter_id = ${DEMO.chapterOsloId}`;
    expect(coordinator.role).toBe("coordinator");
  });
});
