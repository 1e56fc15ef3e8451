import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type postgres from "postgres";
import { asRole, claims, createTestDatabase, type TestDatabase } from "../support/db.ts";
import {
  createCertification,
  createChapter,
  createCoordinator,
  createListedMentor,
  createMentor,
  createOrganisation,
} from "../support/factories.ts";
import { FIXED_COORDINATOR_ID, renewalRecord } from "../support/payload-factory.ts";

let db: TestDatabase;
const notices: postgres.Notice[] = [];

beforeAll(async () => {
  db = await createTestDatabase({ onnotice: (n) => notices.push(n) });
});
afterAll(async () => {
  await db?.close();
});

const { schema_version: _, ...withoutVersion } = renewalRecord();

const MALFORMED: Array<[string, postgres.JSONValue]> = [
  ["not an array", renewalRecord()],
  ["an entry that is not an object", ["2025-01-01"]],
  ["missing schema_version", [withoutVersion]],
  ["missing renewed_by", [{ ...renewalRecord(), renewed_by: undefined }]],
  ["schema_version 2", [renewalRecord({ schema_version: 2 })]],
  ["schema_version as a string", [{ ...renewalRecord(), schema_version: "1" }]],
  ["issued_at as a number", [{ ...renewalRecord(), issued_at: 1735689600000 }]],
  ["unparseable issued_at", [renewalRecord({ issued_at: "yesterday" })]],
  ["timestamp without offset", [renewalRecord({ issued_at: "2025-01-01T00:00:00" })]],
  ["impossible date", [renewalRecord({ expires_at: "2026-02-30T00:00:00Z" })]],
  ["impossible time", [renewalRecord({ expires_at: "2026-01-01T24:00:00Z" })]],
  ["expires before issued", [
    renewalRecord({ issued_at: "2026-01-01T00:00:00Z", expires_at: "2025-01-01T00:00:00Z" }),
  ]],
  ["renewed_by not a uuid", [renewalRecord({ renewed_by: "coordinator" })]],
  // A valid Postgres uuid the outbound schema rejects (version nibble e): it would block delivery.
  ["renewed_by not an RFC 4122 uuid", [
    renewalRecord({ renewed_by: "7c4a6d2f-2e6b-ec11-8f8f-000d3a4b1c2d" }),
  ]],
  ["an instant past year 9999 in UTC", [
    renewalRecord({ expires_at: "9999-12-31T23:00:00-05:00" }),
  ]],
  ["one bad entry among good ones", [renewalRecord(), renewalRecord({ issued_at: "" })]],
];

describe("renewal_history validation", () => {
  it.each(MALFORMED)("rejects %s", async (_name, history) => {
    const mentor = await createMentor(db.sql);
    await expect(createCertification(db.sql, { mentorId: mentor.id, renewalHistory: history }))
      .rejects.toMatchObject({
        code: "23514",
        constraint_name: "certifications_renewal_history_valid",
      });
  });

  it("accepts well-formed entries with offsets, fractions and a renewer", async () => {
    const mentor = await createMentor(db.sql);
    const history = [
      renewalRecord(),
      renewalRecord({
        issued_at: "2026-01-01T01:00:00.123456+01:00",
        expires_at: "2027-01-01T00:00:00-05:30",
        renewed_by: "6f1c2b9e-8a1d-4c3e-9f00-0a1b2c3d4e5f",
      }),
    ];
    await createCertification(db.sql, { mentorId: mentor.id, renewalHistory: history });
    const [row] = await db.sql`
      select renewal_history from public.certifications where mentor_id = ${mentor.id}`;
    expect(row.renewal_history).toEqual(history);
  });
});

describe("append_certification_renewal", () => {
  it("sets the dates, appends a versioned entry by the caller and reactivates", async () => {
    const org = await createOrganisation(db.sql);
    const chapter = await createChapter(db.sql, { organisationId: org.id });
    const coordinator = await createCoordinator(db.sql, [chapter.id]);
    const { mentorId, certificationId } = await createListedMentor(db.sql, {
      chapterIds: [chapter.id],
    });
    await db.sql`update public.certifications set status = 'paused' where id = ${certificationId}`;
    const issuedAt = new Date("2026-11-01T08:30:00.250Z");
    const expiresAt = new Date("2027-11-01T08:30:00.250Z");

    const [renewed] = await asRole(
      db.sql,
      claims.user(coordinator.id),
      (tx) =>
        tx`select * from public.append_certification_renewal(
           ${certificationId}, ${issuedAt}, ${expiresAt})`,
    );

    expect(renewed).toMatchObject({ status: "active", issued_at: issuedAt, expires_at: expiresAt });
    expect(renewed.renewal_history).toEqual([{
      schema_version: 1,
      issued_at: "2026-11-01T08:30:00.250Z",
      expires_at: "2027-11-01T08:30:00.250Z",
      renewed_by: coordinator.id,
    }]);
    const [last] = await db.sql`
      select event_type from public.sync_events where mentor_id = ${mentorId}
       order by id desc limit 1`;
    expect(last.event_type).toBe("certification.renewed");
  });

  it("records the caller as renewer, whatever renewer a coordinator passes", async () => {
    const org = await createOrganisation(db.sql);
    const chapter = await createChapter(db.sql, { organisationId: org.id });
    const coordinator = await createCoordinator(db.sql, [chapter.id]);
    const other = await createCoordinator(db.sql, [chapter.id]);
    const { certificationId } = await createListedMentor(db.sql, { chapterIds: [chapter.id] });
    const [renewed] = await asRole(
      db.sql,
      claims.user(coordinator.id),
      (tx) =>
        tx`select * from public.append_certification_renewal(
           ${certificationId}, now(), now() + interval '1 year', ${other.id})`,
    );
    expect(renewed.renewal_history.at(-1).renewed_by).toBe(coordinator.id);
  });

  it("lets the service role attribute a renewal to someone else", async () => {
    const mentor = await createMentor(db.sql);
    const cert = await createCertification(db.sql, { mentorId: mentor.id });
    const renewer = "6f1c2b9e-8a1d-4c3e-9f00-0a1b2c3d4e5f";
    const [renewed] = await asRole(
      db.sql,
      claims.service(),
      (tx) =>
        tx`select * from public.append_certification_renewal(
           ${cert.id}, now(), now() + interval '1 year', ${renewer})`,
    );
    expect(renewed.renewal_history.at(-1).renewed_by).toBe(renewer);
  });

  it("warns (without failing) once the history grows past 500 entries", async () => {
    const mentor = await createMentor(db.sql);
    const history = Array.from({ length: 500 }, () => renewalRecord());
    const cert = await createCertification(db.sql, {
      mentorId: mentor.id,
      renewalHistory: history,
    });
    const warningsFor = () =>
      notices.filter((n) => n.severity === "WARNING" && n.message.includes(cert.id));

    const renewal = (days: number) =>
      db.sql`
      select jsonb_array_length(renewal_history) as entries
        from public.append_certification_renewal(${cert.id}, now(), now() + make_interval(days => ${days}))`;
    // 500 -> 501 entries: warns; the renewal is committed anyway.
    const [{ entries }] = await renewal(365);
    expect(entries).toBe(501);
    expect(warningsFor()).toHaveLength(1);
    expect(warningsFor()[0].message).toContain("501 entries");
  });

  it("stays silent up to 500 entries", async () => {
    const mentor = await createMentor(db.sql);
    const cert = await createCertification(db.sql, {
      mentorId: mentor.id,
      renewalHistory: Array.from({ length: 499 }, () => renewalRecord()),
    });
    await db
      .sql`select public.append_certification_renewal(${cert.id}, now(), now() + interval '1 year')`;
    expect(notices.filter((n) => n.message.includes(cert.id))).toEqual([]);
  });
});

describe("renewal_history writes other than append_certification_renewal", () => {
  async function coordinatorWithMentor() {
    const org = await createOrganisation(db.sql);
    const chapter = await createChapter(db.sql, { organisationId: org.id });
    const coordinator = await createCoordinator(db.sql, [chapter.id]);
    const listed = await createListedMentor(db.sql, { chapterIds: [chapter.id] });
    return { coordinator, ...listed };
  }

  it("a coordinator's direct UPDATE may add entries only in their own name", async () => {
    const { coordinator, certificationId } = await coordinatorWithMentor();
    const write = (renewedBy: string | null) =>
      asRole(
        db.sql,
        claims.user(coordinator.id),
        (tx) =>
          tx`update public.certifications
                set renewal_history = renewal_history || ${
            db.sql.json([renewalRecord({ renewed_by: renewedBy })])
          }
              where id = ${certificationId}`,
      );
    await expect(write(FIXED_COORDINATOR_ID)).rejects.toMatchObject({ code: "42501" });
    await expect(write(null)).rejects.toMatchObject({ code: "42501" });
    await write(coordinator.id);
    const [row] = await db.sql`
      select renewal_history from public.certifications where id = ${certificationId}`;
    expect(row.renewal_history.map((e: { renewed_by: string }) => e.renewed_by)).toEqual([
      coordinator.id,
    ]);
  });

  it("a coordinator cannot store an entry the payload builder rejects", async () => {
    const { coordinator, certificationId } = await coordinatorWithMentor();
    const bad = renewalRecord({
      renewed_by: coordinator.id,
      issued_at: "2025-11-22T10:00:00", // no offset
    });
    await expect(asRole(
      db.sql,
      claims.user(coordinator.id),
      (tx) =>
        tx`update public.certifications set renewal_history = ${db.sql.json([bad])}
            where id = ${certificationId}`,
    )).rejects.toMatchObject({ code: "23514" });
  });

  it("warns past 500 entries on a direct UPDATE too", async () => {
    const mentor = await createMentor(db.sql);
    const cert = await createCertification(db.sql, { mentorId: mentor.id });
    await db.sql`update public.certifications
                    set renewal_history = ${
      db.sql.json(Array.from({ length: 501 }, () => renewalRecord()))
    }
                  where id = ${cert.id}`;
    const warnings = notices.filter((n) => n.severity === "WARNING" && n.message.includes(cert.id));
    expect(warnings.map((w) => w.message)).toEqual([
      `certification ${cert.id} renewal history has 501 entries (more than 500)`,
    ]);
  });

  it("rejects more than 5000 entries on every path, with a clear error", async () => {
    const mentor = await createMentor(db.sql);
    const cert = await createCertification(db.sql, {
      mentorId: mentor.id,
      renewalHistory: Array.from({ length: 5000 }, () => renewalRecord()),
    });
    const tooMany = Array.from({ length: 5001 }, () => renewalRecord());
    await expect(
      db.sql`update public.certifications set renewal_history = ${db.sql.json(tooMany)}
              where id = ${cert.id}`,
    ).rejects.toMatchObject({ code: "54000", message: expect.stringContaining("limit is 5000") });
    await expect(
      db.sql`select public.append_certification_renewal(${cert.id}, now(), now() + interval '1 year')`,
    ).rejects.toMatchObject({ code: "54000" });
    await expect(createCertification(db.sql, {
      mentorId: (await createMentor(db.sql)).id,
      renewalHistory: tooMany,
    })).rejects.toMatchObject({ code: "54000" });
    const [row] = await db.sql`
      select jsonb_array_length(renewal_history) as n from public.certifications where id = ${cert.id}`;
    expect(row.n).toBe(5000);
  });
});
