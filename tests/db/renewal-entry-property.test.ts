// One definition of a valid renewal entry: whatever the database accepts, the payload builder
// accepts (so stored data can never make an event undeliverable).
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { buildPayload } from "../../shared/contract/payload.ts";
import { useTestDatabase } from "../support/db.ts";
import { payloadInput } from "../support/payload-factory.ts";

const db = useTestDatabase();

const pad = (n: number, width: number) => String(n).padStart(width, "0");

// Near-valid timestamps: every part ranges a little past its legal bounds.
const timestamp = fc.record({
  year: fc.oneof(fc.integer({ min: 0, max: 10_000 }), fc.constantFrom(1, 9999, 2024)),
  month: fc.integer({ min: 0, max: 13 }),
  day: fc.integer({ min: 0, max: 32 }),
  hour: fc.integer({ min: 0, max: 24 }),
  minute: fc.integer({ min: 0, max: 60 }),
  second: fc.integer({ min: 0, max: 60 }),
  fraction: fc.option(fc.stringMatching(/^[0-9]{1,8}$/), { nil: undefined }),
  offset: fc.oneof(
    fc.constant("Z"),
    fc.constant(""),
    fc.tuple(
      fc.constantFrom("+", "-"),
      fc.integer({ min: 0, max: 16 }),
      fc.integer({ min: 0, max: 60 }),
    )
      .map(([sign, h, m]) => `${sign}${pad(h, 2)}:${pad(m, 2)}`),
  ),
}).map((t) =>
  `${pad(t.year, 4)}-${pad(t.month, 2)}-${pad(t.day, 2)}T${pad(t.hour, 2)}:${pad(t.minute, 2)}:${
    pad(t.second, 2)
  }${t.fraction === undefined ? "" : `.${t.fraction}`}${t.offset}`
);

const hex = (length: number) => fc.stringMatching(new RegExp(`^[0-9a-fA-F]{${length}}$`));
const guid = fc.tuple(hex(8), hex(4), hex(4), hex(4), hex(12)).map((parts) => parts.join("-"));

const entry = fc.record({
  schema_version: fc.constantFrom<unknown>(1, 1, 1, 2, "1", 1.5),
  issued_at: fc.oneof(timestamp, fc.constant("2025-01-01T00:00:00Z")),
  expires_at: fc.oneof(timestamp, fc.constant("2030-01-01T00:00:00Z")),
  renewed_by: fc.oneof(
    fc.constant(null),
    fc.uuid(),
    guid,
    fc.constant("00000000-0000-0000-0000-000000000000"),
    fc.string(),
  ),
});

describe("renewal entry rule: database vs payload builder", () => {
  it("every entry the database accepts builds a valid payload", async () => {
    const entries = fc.sample(entry, { numRuns: 4000, seed: 20261123 });
    const rows = await db().sql<{ n: string; ok: boolean }[]>`
      select e.n::text, private.is_valid_renewal_entry(e.value) as ok
        from jsonb_array_elements(${db().sql.json(entries as never)}::jsonb)
             with ordinality as e(value, n)`;
    const accepted = rows.filter((r) => r.ok).map((r) => entries[Number(r.n) - 1]);
    // The generator must reach both sides of the rule, or the property proves nothing.
    expect(accepted.length).toBeGreaterThan(200);
    expect(accepted.length).toBeLessThan(entries.length);
    for (const e of accepted) {
      expect(() => buildPayload(payloadInput({ renewalHistory: [e as never] })), JSON.stringify(e))
        .not.toThrow();
    }
  });
});
