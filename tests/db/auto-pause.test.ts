import { describe, expect, it } from "vitest";
import { asRole, claims, useTestDatabase } from "../support/db.ts";
import { createListedMentor, seedLapsedCertifications } from "../support/factories.ts";

const db = useTestDatabase();

const LAPSED = 10_000;

describe("expire_due_certifications()", () => {
  it(`expires ${LAPSED} lapsed certifications in one call, one expired event each`, async () => {
    const notDue = await createListedMentor(db().sql, { expiresInDays: 3 });
    const lapsed = await seedLapsedCertifications(db().sql, LAPSED);
    const [{ mark }] = await db().sql`select max(id)::text as mark from public.sync_events`;

    const [{ expired }] = await db().sql`select public.expire_due_certifications() as expired`;

    expect(expired).toBe(LAPSED);
    const [events] = await db().sql`
      select count(*)::int as total,
             count(distinct mentor_id)::int as mentors,
             count(*) filter (where event_type = 'certification.expired'
                                and certification_status = 'expired'
                                and state = 'pending')::int as expiries
        from public.sync_events where id > ${mark}::bigint`;
    expect(events).toEqual({ total: LAPSED, mentors: LAPSED, expiries: LAPSED });
    const [certs] = await db().sql`
      select count(*) filter (where status = 'expired')::int as expired,
             bool_and(status = 'active') filter (where mentor_id = ${notDue.mentorId}) as kept
        from public.certifications where id = any(${lapsed}::uuid[]) or mentor_id = ${notDue.mentorId}`;
    expect(certs).toEqual({ expired: LAPSED, kept: true });
    // Seeding and expiring 10,000 rows takes seconds on PGlite, more on a loaded 2-core machine.
  }, 180_000);

  it("a second run finds nothing due and writes nothing", async () => {
    const [{ before }] = await db().sql`select count(*)::int as before from public.sync_events`;
    const [{ expired }] = await db().sql`select public.expire_due_certifications() as expired`;
    const [{ after }] = await db().sql`select count(*)::int as after from public.sync_events`;
    expect({ expired, after }).toEqual({ expired: 0, after: before });
  });

  it.each(
    [
      ["anon", claims.anon(), false],
      ["authenticated", claims.user("00000000-0000-4000-8000-000000000001"), false],
      ["service_role", claims.service(), true],
    ] as const,
  )("may be executed by %s: %s", async (_name, jwt, allowed) => {
    const run = asRole(db().sql, jwt, (tx) => tx`select public.expire_due_certifications()`);
    if (allowed) await expect(run).resolves.toHaveLength(1);
    else await expect(run).rejects.toMatchObject({ code: "42501" });
  });
});
