import { describe, expect, it } from "vitest";
import {
  buildPayload,
  buildPayloadSkippingInvalid,
  fromJson,
  PayloadError,
  RENEWAL_SNAPSHOT_SIZE,
  toJson,
} from "../../shared/contract/payload.ts";
import { sign } from "../../shared/contract/signer.ts";
import {
  FIXED_COORDINATOR_ID,
  FIXED_EVENT_ID,
  FIXED_MENTOR_ID,
  payload,
  PAYLOAD_FIELDS,
  payloadInput,
  payloadObject,
  renewalRecord,
  renewalRecords,
} from "../support/payload-factory.ts";
import { shuffled } from "../support/shuffled.ts";

const ISO_MS_Z = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

describe("buildPayload + toJson", () => {
  it("serialises every field, in contract order", () => {
    const json = toJson(payload({
      eventType: "certification.renewed",
      certificationStatus: "active",
      occurredAt: new Date(Date.UTC(2026, 10, 22, 10, 0, 0, 7)),
      expiryDate: new Date(Date.UTC(2027, 10, 22)),
      renewalHistory: [renewalRecord()],
    }));
    const parsed = JSON.parse(json);
    expect(Object.keys(parsed)).toEqual(PAYLOAD_FIELDS);
    expect(parsed).toEqual({
      schemaVersion: 1,
      eventId: FIXED_EVENT_ID,
      eventType: "certification.renewed",
      occurredAt: "2026-11-22T10:00:00.007Z",
      mentorId: FIXED_MENTOR_ID,
      certificationStatus: "active",
      expiryDate: "2027-11-22T00:00:00.000Z",
      listingAction: "reinstate",
      renewalHistory: [{
        issuedAt: "2025-11-22T10:00:00.000Z",
        expiresAt: "2026-11-22T10:00:00.000Z",
        renewedBy: FIXED_COORDINATOR_ID,
        schemaVersion: 1,
      }],
    });
    expect(Object.keys(parsed.renewalHistory[0])).toEqual([
      "issuedAt",
      "expiresAt",
      "renewedBy",
      "schemaVersion",
    ]);
    expect(json).not.toMatch(/\s/);
  });

  it("derives listingAction from eventType", () => {
    expect(payload({ eventType: "certification.expired" }).listingAction).toBe("remove");
    expect(payload({ eventType: "certification.renewed" }).listingAction).toBe("reinstate");
  });

  it("writes every date as ISO 8601 UTC with milliseconds and Z, whatever the source offset", () => {
    const built = payload({
      renewalHistory: [renewalRecord({
        issued_at: "2025-11-22T11:30:00+01:00",
        expires_at: "2026-11-22 10:30:00.5+00",
      })],
    });
    const dates = [
      built.occurredAt,
      built.expiryDate,
      built.renewalHistory[0].issuedAt,
      built.renewalHistory[0].expiresAt,
    ];
    for (const date of dates) expect(date).toMatch(ISO_MS_Z);
    expect(built.renewalHistory[0]).toMatchObject({
      issuedAt: "2025-11-22T10:30:00.000Z",
      expiresAt: "2026-11-22T10:30:00.500Z",
    });
  });

  it("gives identical JSON and an identical signature for identical input", async () => {
    const history = renewalRecords(7);
    const first = toJson(buildPayload(payloadInput({ renewalHistory: history })));
    const second = toJson(
      buildPayload(payloadInput({ renewalHistory: shuffled(structuredClone(history), 7) })),
    );
    expect(second).toBe(first);
    expect(await sign(second, "s3cret")).toBe(await sign(first, "s3cret"));
  });

  it("keeps the newest 5 renewals, newest first, when the source has more", () => {
    const history = renewalRecords(8);
    const built = payload({ renewalHistory: shuffled(history, 42) });
    const newestFirst = [...history].reverse().slice(0, RENEWAL_SNAPSHOT_SIZE);
    expect(built.renewalHistory.map((e) => e.issuedAt)).toEqual(
      newestFirst.map((r) => r.issued_at),
    );
  });

  it("keeps a shorter history whole, newest first", () => {
    const history = renewalRecords(3);
    const built = payload({ renewalHistory: history });
    expect(built.renewalHistory.map((e) => e.issuedAt)).toEqual(
      [...history].reverse().map((r) => r.issued_at),
    );
    expect(payload({ renewalHistory: [] }).renewalHistory).toEqual([]);
  });

  it("orders renewals by time, not by text, and breaks ties on expiry", () => {
    const built = payload({
      renewalHistory: [
        renewalRecord({
          issued_at: "2025-01-01T00:30:00+01:00",
          expires_at: "2026-01-01T00:00:00Z",
        }),
        renewalRecord({ issued_at: "2025-01-01T00:00:00Z", expires_at: "2026-06-01T00:00:00Z" }),
        renewalRecord({ issued_at: "2024-12-31T23:45:00Z", expires_at: "2025-12-31T00:00:00Z" }),
      ],
    });
    expect(built.renewalHistory.map((e) => [e.issuedAt, e.expiresAt])).toEqual([
      ["2025-01-01T00:00:00.000Z", "2026-06-01T00:00:00.000Z"],
      ["2024-12-31T23:45:00.000Z", "2025-12-31T00:00:00.000Z"],
      ["2024-12-31T23:30:00.000Z", "2026-01-01T00:00:00.000Z"],
    ]);
  });

  it("throws a permanent PayloadError naming the field when source data is unusable", () => {
    const build = () => payload({ renewalHistory: [renewalRecord({ issued_at: "not a date" })] });
    expect(build).toThrow(PayloadError);
    try {
      build();
    } catch (error) {
      expect((error as PayloadError).kind).toBe("permanent");
      expect((error as PayloadError).issues.map((i) => i.path)).toEqual([
        "renewalHistory.0.issuedAt",
      ]);
    }
  });
});

describe("buildPayloadSkippingInvalid", () => {
  it("leaves invalid stored entries out, reports them by stored index, and keeps five valid ones", () => {
    const valid = renewalRecords(6); // oldest first
    const history = [
      renewalRecord({ issued_at: "2030-01-01T00:00:00.000Z", renewed_by: "not-a-uuid" }),
      ...valid,
      null as never,
    ];
    const { payload: built, dropped } = buildPayloadSkippingInvalid(
      payloadInput({ eventType: "certification.expired", renewalHistory: history }),
    );
    expect(dropped.map((i) => i.path)).toEqual([
      "renewalHistory.0.renewedBy",
      "renewalHistory.7.issuedAt",
      "renewalHistory.7.expiresAt",
      "renewalHistory.7.renewedBy",
      "renewalHistory.7.schemaVersion",
    ]);
    expect(built.listingAction).toBe("remove");
    expect(built.renewalHistory).toEqual(
      buildPayload(payloadInput({ renewalHistory: valid })).renewalHistory,
    );
  });

  it("equals buildPayload when every entry is valid", () => {
    const input = payloadInput({ renewalHistory: renewalRecords(3) });
    expect(buildPayloadSkippingInvalid(input)).toEqual({
      payload: buildPayload(input),
      dropped: [],
    });
  });
});

describe("fromJson", () => {
  it("round-trips a built payload", () => {
    const built = payload({ renewalHistory: renewalRecords(6) });
    expect(fromJson(toJson(built))).toEqual({ ok: true, value: built });
  });

  it.each([
    ["missing field", { mentorId: undefined }, "mentorId"],
    ["mistyped field", { eventId: 42 }, "eventId"],
    ["not a uuid", { mentorId: "mentor-1" }, "mentorId"],
    ["unknown schema version", { schemaVersion: 2 }, "schemaVersion"],
    ["unknown event type", { eventType: "certification.revoked" }, "eventType"],
    ["unknown status", { certificationStatus: "lapsed" }, "certificationStatus"],
    ["date without milliseconds", { occurredAt: "2026-11-22T10:00:00Z" }, "occurredAt"],
    ["date with an offset", { expiryDate: "2026-11-22T10:00:00.000+01:00" }, "expiryDate"],
    ["action contradicting the event", { listingAction: "reinstate" }, "listingAction"],
    [
      "history too long",
      { renewalHistory: Array(6).fill(payload().renewalHistory[0]) },
      "renewalHistory",
    ],
    ["history entry date", {
      renewalHistory: [{ ...payload().renewalHistory[0], expiresAt: "yesterday" }],
    }, "renewalHistory.0.expiresAt"],
    ["history entry renewedBy", {
      renewalHistory: [payload().renewalHistory[0], {
        ...payload().renewalHistory[0],
        renewedBy: "x",
      }],
    }, "renewalHistory.1.renewedBy"],
  ])("rejects a %s, naming the path", (_name, change, path) => {
    const result = fromJson(JSON.stringify(payloadObject(change)));
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.issues.map((i) => i.path)).toEqual([path]);
    expect(result.issues[0].message.length).toBeGreaterThan(0);
  });

  it("names every bad field at once", () => {
    const result = fromJson(JSON.stringify(payloadObject({ eventId: null, occurredAt: 0 })));
    expect(result.ok ? [] : result.issues.map((i) => i.path).sort()).toEqual([
      "eventId",
      "occurredAt",
    ]);
  });

  it("reports invalid JSON at the root", () => {
    const result = fromJson("{not json");
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.issues).toHaveLength(1);
    expect(result.issues[0].path).toBe("");
    expect(result.issues[0].message).toMatch(/^invalid JSON: /);
  });

  it("tolerates and drops unknown fields at the top level and in history entries", () => {
    const object = payloadObject({ addedInV1_1: "x" });
    (object.renewalHistory as Record<string, unknown>[])[0].note = "later field";
    const result = fromJson(JSON.stringify(object));
    expect(result).toEqual({ ok: true, value: payload() });
  });
});
