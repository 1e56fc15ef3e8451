import { describe, expect, it } from "vitest";
import { parseInboundEvent } from "../../shared/contract/inbound.ts";
import { listingChanged, listingConfirmed } from "../support/payload-factory.ts";

const parse = (value: unknown) => parseInboundEvent(JSON.stringify(value));

function issuePaths(value: unknown): string[] {
  const result = parse(value);
  return result.ok ? [] : result.issues.map((i) => i.path);
}

describe("parseInboundEvent", () => {
  it("parses listing.confirmed", () => {
    const event = listingConfirmed();
    expect(parse(event)).toEqual({ ok: true, value: event });
  });

  it("parses listing.changed with and without its optional fields", () => {
    const full = listingChanged();
    expect(parse(full)).toEqual({ ok: true, value: full });
    const { changedBy: _by, reason: _reason, ...bare } = full;
    expect(parse(bare)).toEqual({ ok: true, value: bare });
  });

  it("narrows on eventType", () => {
    const result = parse(listingConfirmed());
    if (!result.ok || result.value.eventType !== "listing.confirmed") {
      throw new Error("expected a listing.confirmed event");
    }
    expect(result.value.inReplyTo).toBe(listingConfirmed().inReplyTo);
  });

  it.each([
    ["unknown eventType", listingConfirmed({ eventType: "listing.deleted" as never }), "eventType"],
    ["missing inReplyTo", { ...listingConfirmed(), inReplyTo: undefined }, "inReplyTo"],
    ["inReplyTo not a uuid", listingConfirmed({ inReplyTo: "evt-1" }), "inReplyTo"],
    ["bad listing", listingChanged({ listing: "hidden" as never }), "listing"],
    ["mistyped changedBy", { ...listingChanged(), changedBy: 7 }, "changedBy"],
    ["wrong schemaVersion", { ...listingChanged(), schemaVersion: 2 }, "schemaVersion"],
    [
      "local time occurredAt",
      listingChanged({ occurredAt: "2026-11-23T08:30:00.000" }),
      "occurredAt",
    ],
    ["missing eventId", { ...listingChanged(), eventId: undefined }, "eventId"],
  ])("rejects %s, naming the path", (_name, value, path) => {
    expect(issuePaths(value)).toEqual([path]);
  });

  it.each([
    ["whole seconds", "2026-11-23T08:30:00Z", "2026-11-23T08:30:00.000Z"],
    [".NET round-trip (7 digits)", "2026-11-23T08:30:00.1234567Z", "2026-11-23T08:30:00.123Z"],
    ["a +02:00 offset", "2026-11-23T10:30:00.5+02:00", "2026-11-23T08:30:00.500Z"],
    ["a -05:30 offset", "2026-11-23T03:00:00-05:30", "2026-11-23T08:30:00.000Z"],
  ])("accepts an occurredAt with %s, stored normalised", (_name, occurredAt, stored) => {
    const result = parse(listingChanged({ occurredAt }));
    expect(result.ok && result.value.occurredAt).toBe(stored);
  });

  it("accepts any 8-4-4-4-12 hex id, such as a Dataverse GUID, lowercased", () => {
    const dataverse = "7C4A6D2F-2E6B-EC11-8F8F-000D3A4B1C2D";
    const result = parse(listingConfirmed({ eventId: dataverse, inReplyTo: dataverse }));
    const confirmed = result.ok && result.value.eventType === "listing.confirmed" && result.value;
    expect(confirmed && [confirmed.eventId, confirmed.inReplyTo]).toEqual([
      dataverse.toLowerCase(),
      dataverse.toLowerCase(),
    ]);
  });

  it.each([
    ["no seconds", "2026-11-23T08:30Z"],
    ["a date only", "2026-11-23"],
    ["an impossible date", "2026-02-30T08:30:00Z"],
  ])("still rejects an occurredAt with %s", (_name, occurredAt) => {
    expect(issuePaths(listingChanged({ occurredAt }))).toEqual(["occurredAt"]);
  });

  it("reports invalid JSON at the root", () => {
    const result = parseInboundEvent("");
    expect(result.ok ? null : result.issues[0]).toMatchObject({
      path: "",
      message: expect.stringMatching(/^invalid JSON: /),
    });
  });

  it("tolerates and drops unknown fields for forward compatibility", () => {
    const event = listingConfirmed();
    expect(parse({ ...event, portalRegion: "west" })).toEqual({ ok: true, value: event });
  });
});
