// Issue 16, item 2: a mentor in chapters of two organisations. Either organisation's coordinator
// may revoke the certification, but only the organisation that revoked it (or service_role) may
// lift the revocation; a pause or an expiry stays open to either organisation's renewal; every status change is recorded with its actor, role, organisations
// and time. Checked both ways round, as PostgREST runs a coordinator's request.
import type postgres from "postgres";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { asRole, claims, createTestDatabase, type TestDatabase } from "../support/db.ts";
import {
  createChapter,
  createCoordinator,
  createListedMentor,
  createOrganisation,
  daysFromNow,
} from "../support/factories.ts";

let db: TestDatabase;
const orgs = {} as Record<"A" | "B", string>;
const coord = {} as Record<"A" | "B", string>;
let mentorId: string;
let certificationId: string;

beforeAll(async () => {
  db = await createTestDatabase();
  for (const org of ["A", "B"] as const) {
    orgs[org] = (await createOrganisation(db.sql)).id;
  }
  const chapterA = (await createChapter(db.sql, { organisationId: orgs.A })).id;
  const chapterB = (await createChapter(db.sql, { organisationId: orgs.B })).id;
  coord.A = (await createCoordinator(db.sql, [chapterA])).id;
  coord.B = (await createCoordinator(db.sql, [chapterB])).id;
});
afterAll(async () => {
  await db?.close();
});
// A fresh shared mentor per case, so each case starts from an active certification.
beforeEach(async () => {
  const chapters = await db.sql<{ id: string }[]>`
    select id from public.chapters where organisation_id in (${orgs.A}, ${orgs.B})`;
  ({ mentorId, certificationId } = await createListedMentor(db.sql, {
    chapterIds: chapters.map((c) => c.id),
  }));
});

type Actor = "A" | "B" | "service";

/** Runs `fn` as the actor's request: "ok", or the SQLSTATE it was refused with. */
async function as(actor: Actor, fn: (tx: postgres.TransactionSql) => Promise<unknown>) {
  const jwt = actor === "service" ? claims.service() : claims.user(coord[actor]);
  try {
    await asRole(db.sql, jwt, fn);
    return "ok";
  } catch (error) {
    return (error as { code?: string }).code ?? String(error);
  }
}

const setStatus = (actor: Actor, status: string) =>
  as(actor, async (tx) => {
    const rows = await tx`update public.certifications set status = ${status}
                          where id = ${certificationId} returning id`;
    expect(rows).toHaveLength(1); // visible to the actor: a refusal below is the rule's
  });

/** Renews through the app's function, as a coordinator's renewal does. */
const renew = (actor: "A" | "B") =>
  as(
    actor,
    (tx) =>
      tx`select public.append_certification_renewal(${certificationId}, ${daysFromNow(0)},
         ${daysFromNow(365)})`,
  );

const currentStatus = async () =>
  (await db.sql<{ status: string }[]>`
    select status from public.certifications where id = ${certificationId}`)[0].status;

const listed = async () =>
  (await db.sql<{ listed: boolean }[]>`
    select listed from public.mentor_listing_state where mentor_id = ${mentorId}`)[0].listed;

describe("a revocation of a mentor shared by two organisations", () => {
  for (const [decider, other] of [["A", "B"], ["B", "A"]] as const) {
    it(`revoked by ${decider}: ${other} can neither reactivate nor renew it, ${decider} can`, async () => {
      expect(await setStatus(decider, "revoked")).toBe("ok");
      expect(await listed()).toBe(false);
      expect(await setStatus(other, "active")).toBe("42501");
      expect(await setStatus(other, "expired")).toBe("42501");
      expect(await renew(other)).toBe("42501");
      expect(await currentStatus()).toBe("revoked");
      expect(await listed()).toBe(false);
      expect(await setStatus(decider, "active")).toBe("ok");
      expect(await listed()).toBe(true);
    });
  }

  it("a pause is no revocation: the other organisation's renewal lifts it", async () => {
    expect(await setStatus("A", "paused")).toBe("ok");
    expect(await renew("B")).toBe("ok");
    expect(await currentStatus()).toBe("active");
  });

  it("revoked by service_role: no coordinator can lift it, service_role can", async () => {
    expect(await setStatus("service", "revoked")).toBe("ok");
    expect(await setStatus("A", "active")).toBe("42501");
    expect(await setStatus("B", "active")).toBe("42501");
    expect(await setStatus("service", "active")).toBe("ok");
  });

  it("either organisation may revoke, and an expiry stays open to both (renewal by the other)", async () => {
    expect(await setStatus("B", "expired")).toBe("ok");
    expect(await renew("A")).toBe("ok");
    expect(await setStatus("A", "revoked")).toBe("ok");
    expect(await setStatus("B", "revoked")).toBe("ok"); // unchanged status: nothing to guard
  });

  it("records who changed what, as which role, for which organisation, and when", async () => {
    const started = new Date(Date.now() - 1000);
    await setStatus("A", "revoked");
    await setStatus("B", "active"); // refused: leaves no record
    await setStatus("A", "active");
    await setStatus("service", "paused");
    const rows = await db.sql`
      select old_status, new_status, actor_role, actor_user_id, actor_organisation_ids, changed_at
        from public.certification_status_changes
       where certification_id = ${certificationId} order by id`;
    expect(rows.map(({ changed_at: _at, ...r }) => r)).toEqual([
      {
        old_status: "active",
        new_status: "revoked",
        actor_role: "authenticated",
        actor_user_id: coord.A,
        actor_organisation_ids: [orgs.A],
      },
      {
        old_status: "revoked",
        new_status: "active",
        actor_role: "authenticated",
        actor_user_id: coord.A,
        actor_organisation_ids: [orgs.A],
      },
      {
        old_status: "active",
        new_status: "paused",
        actor_role: "service_role",
        actor_user_id: null,
        actor_organisation_ids: [],
      },
    ]);
    for (const r of rows) expect(r.changed_at.getTime()).toBeGreaterThan(started.getTime());
  });

  it("the record is the service's: coordinators can neither read nor write it", async () => {
    await setStatus("A", "revoked");
    for (const who of ["A", "B"] as const) {
      expect(await as(who, (tx) => tx`select * from public.certification_status_changes`))
        .toBe("42501");
    }
    const forged = await as(
      "B",
      (tx) =>
        tx`insert into public.certification_status_changes (certification_id, mentor_id,
           old_status, new_status, actor_role, actor_organisation_ids)
         values (${certificationId}, ${mentorId}, 'active', 'revoked', 'authenticated',
           array[${orgs.B}]::uuid[])`,
    );
    expect(forged).toBe("42501");
    expect(await setStatus("B", "active")).toBe("42501");
  });
});
