// Hostile inbound webhooks (issue 8, item 4). Thousands of generated deliveries against the
// dynamics-webhook app in-process: mangled bodies (random bytes, non-UTF-8, truncated, huge, JSON
// bombs, duplicate keys, `__proto__`) under mangled signatures (none, garbage, another body's, wrong
// secret, stale or future timestamps) and hostile headers. Never a 5xx; nothing written unless the
// signature is valid and the event parses; each rejection the right 4xx with `{error:{code,message}}`.
// Then a burst of 200 concurrent deliveries of one event through the real gateway: one row, one effect.
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApp } from "../../functions/dynamics-webhook/app.ts";
import { FIXED_MENTOR_ID, listingChanged, listingConfirmed } from "../support/payload-factory.ts";
import { createTestDatabase, type TestDatabase } from "../support/db.ts";
import { createListedMentor } from "../support/factories.ts";
import {
  INBOUND_SECRET,
  inProcessRuntime,
  type SignatureScheme,
  signedDelivery,
  signedHeaders,
  writeCounts,
} from "../support/inbound-delivery.ts";
import { startTestStack } from "../support/stack.ts";

const MAX_BODY = 65_536;
const TOLERANCE = 300;
const NOW_MS = Date.parse("2026-11-22T12:00:00.000Z");
const NOW_S = NOW_MS / 1000;
const encoder = new TextEncoder();

let db: TestDatabase;
let app: ReturnType<typeof createApp>;
let listedMentorId: string;
let nowMs = NOW_MS;
const cases = { unsigned: 0, signed: 0, replays: 0 };
/** What the generated cases covered, `kind:status` -> count, so a blind generator fails the test. */
const seen = new Map<string, number>();
const tally = (key: string) => seen.set(key, (seen.get(key) ?? 0) + 1);

beforeAll(async () => {
  db = await createTestDatabase();
  listedMentorId = (await createListedMentor(db.sql)).mentorId;
  const { runtime } = inProcessRuntime(db, {
    WEBHOOK_MAX_BODY_BYTES: String(MAX_BODY),
    WEBHOOK_TOLERANCE_SECONDS: String(TOLERANCE),
  });
  app = createApp(runtime, () => nowMs);
});
afterAll(async () => {
  await db?.close();
});

// ---- bodies -------------------------------------------------------------------------------------

/** A body and what the contract says of it: valid (200), invalid (400) or either (`null`). */
interface Body {
  kind: string;
  bytes: Uint8Array;
  valid: boolean | null;
  /** The eventId a valid body is stored under. */
  eventId?: string;
}

const text = (kind: string, s: string, valid: boolean | null, eventId?: string): Body => ({
  kind,
  bytes: encoder.encode(s),
  valid,
  eventId,
});

const eventArb = fc.record({
  eventId: fc.uuid({ version: 4 }),
  mentorId: fc.constantFrom(FIXED_MENTOR_ID, "listed"),
  listing: fc.constantFrom("listed" as const, "unlisted" as const),
  changed: fc.boolean(),
}).map(({ eventId, mentorId, listing, changed }) => {
  const m = mentorId === "listed" ? listedMentorId : mentorId;
  return changed
    ? listingChanged({ eventId, mentorId: m, listing })
    : listingConfirmed({ eventId, mentorId: m, listing });
});

const validEvent = eventArb.map((e) => text("valid", JSON.stringify(e), true, e.eventId));

// One field replaced by anything or dropped: may or may not still be valid.
const mutatedEvent = fc.tuple(
  eventArb,
  fc.constantFrom("schemaVersion", "eventId", "eventType", "occurredAt", "mentorId", "listing"),
  fc.option(fc.jsonValue({ maxDepth: 3 }), { nil: undefined }),
).map(([e, field, value]) =>
  text("mutated", JSON.stringify({ ...e, [field]: value }), null, e.eventId)
);

const randomBytes = fc.uint8Array({ maxLength: 2048 }).map((bytes) => ({
  kind: "bytes",
  bytes,
  valid: false,
}));
const randomText = fc.string({ unit: "binary", maxLength: 512 }).map((s) => text("text", s, false));
const randomJson = fc.jsonValue({ maxDepth: 4 }).map((v) => text("json", JSON.stringify(v), false));

const INVALID_UTF8 = [[0xff], [0xc3, 0x28], [0xed, 0xa0, 0x80], [0xf8, 0x88, 0x80, 0x80, 0x80]];
const nonUtf8 = fc.tuple(validEvent, fc.constantFrom(...INVALID_UTF8), fc.nat()).map(
  ([b, bad, at]) => {
    const i = at % (b.bytes.length + 1);
    const bytes = new Uint8Array([...b.bytes.slice(0, i), ...bad, ...b.bytes.slice(i)]);
    return { kind: "non-utf8", bytes, valid: false };
  },
);

const truncated = fc.tuple(validEvent, fc.nat()).map(([b, cut]) => ({
  kind: "truncated",
  bytes: b.bytes.slice(0, cut % b.bytes.length),
  valid: false,
}));

// Deep nesting alone, and hidden in an unknown field of a valid event (dropped, so still valid).
const bomb = (depth: number, array: boolean) =>
  array ? "[".repeat(depth) + "]".repeat(depth) : '{"a":'.repeat(depth) + "1" + "}".repeat(depth);
const jsonBomb = fc.tuple(fc.integer({ min: 1, max: 12_000 }), fc.boolean(), fc.option(eventArb))
  .map(([depth, array, e]) =>
    e
      ? text(
        "bomb-in-event",
        `{"nested":${bomb(depth, array)},${JSON.stringify(e).slice(1)}`,
        true,
        e.eventId,
      )
      : text("bomb", bomb(depth, array), false)
  );

// JSON.parse keeps the last of duplicate keys; the stored event must be that one.
const duplicateKeys = fc.tuple(eventArb, fc.uuid({ version: 4 }), fc.boolean()).map(
  ([e, otherId, lastValid]) => {
    const inner = JSON.stringify(e).slice(1, -1);
    return lastValid
      ? text("duplicate-keys", `{"eventId":"${otherId}",${inner}}`, true, e.eventId)
      : text("duplicate-keys", `{${inner},"eventId":"not-a-uuid"}`, false);
  },
);

// `__proto__` and `constructor.prototype` keys: ignored beside a valid event, never a source of fields.
const prototypeKeys = fc.tuple(eventArb, fc.constantFrom("alongside", "only", "constructor")).map(
  ([e, where]) => {
    const json = JSON.stringify(e);
    switch (where) {
      case "alongside":
        return text(
          "proto",
          `{"__proto__":{"polluted":true,"isAdmin":true},${json.slice(1)}`,
          true,
          e.eventId,
        );
      case "only":
        return text("proto", `{"__proto__":${json}}`, false);
      default:
        return text(
          "proto",
          `{"constructor":{"prototype":${json}},"__proto__":{"polluted":1}}`,
          false,
        );
    }
  },
);

const huge = fc.tuple(fc.integer({ min: 1, max: 3 * MAX_BODY }), fc.option(validEvent)).map(
  ([extra, b]) => {
    const padding = " ".repeat(MAX_BODY + extra);
    return text("huge", b ? new TextDecoder().decode(b.bytes) + padding : padding, false);
  },
);

const anyBody: fc.Arbitrary<Body> = fc.oneof(
  validEvent,
  mutatedEvent,
  randomBytes,
  randomText,
  randomJson,
  nonUtf8,
  truncated,
  jsonBomb,
  duplicateKeys,
  prototypeKeys,
  huge,
);

// ---- headers ------------------------------------------------------------------------------------

const printable = fc.stringMatching(/^[\x20-\x7e]{0,120}$/);
// Mostly JSON, so the body and signature cases behind the media-type check stay well covered.
const JSON_TYPES = ["application/json", "application/json; charset=utf-8"];
const contentType = fc.oneof(
  { arbitrary: fc.constantFrom(...JSON_TYPES), weight: 6 },
  {
    arbitrary: fc.constantFrom(
      "text/plain",
      "application/x-www-form-urlencoded",
      "multipart/form-data; boundary=x",
      "application/json; charset=latin1",
      undefined,
    ),
    weight: 1,
  },
);
const RESERVED = /^(webhook-|x-hlf-|content-|host$|transfer-encoding$|connection$)/i;
const extraHeaders = fc.dictionary(
  fc.stringMatching(/^[a-z][a-z0-9-]{0,20}$/).filter((n) => !RESERVED.test(n)),
  printable,
  { maxKeys: 4 },
);

/** A signature mode and the verification failure it must produce (null: it verifies). */
type SigMode =
  | { mode: "valid"; scheme: SignatureScheme; skew: number; stray: boolean }
  | { mode: "none" | "wrong-secret" | "other-body" | "garbage" | "partial" | "hlf-stray-forged" }
  | { mode: "stale" | "future"; by: number };

const validSig: fc.Arbitrary<SigMode> = fc.record({
  mode: fc.constant("valid" as const),
  scheme: fc.constantFrom("standard-webhooks" as const, "hlf" as const),
  skew: fc.integer({ min: -TOLERANCE, max: TOLERANCE }),
  // A stray header of the other scheme: the scheme is chosen by what verifies.
  stray: fc.boolean(),
});
const badSig: fc.Arbitrary<SigMode> = fc.oneof(
  fc.constantFrom(
    ...(["none", "wrong-secret", "other-body", "garbage", "partial", "hlf-stray-forged"] as const)
      .map((mode) => ({ mode })),
  ),
  fc.record({
    mode: fc.constantFrom("stale" as const, "future" as const),
    by: fc.integer({ min: 1, max: 10 ** 9 }),
  }),
);

const EXPECTED_REASON: Record<Exclude<SigMode["mode"], "valid">, string[]> = {
  none: ["missing_signature"],
  "wrong-secret": ["signature_mismatch"],
  "other-body": ["signature_mismatch"],
  garbage: ["malformed_signature", "signature_mismatch"],
  partial: ["malformed_signature"],
  "hlf-stray-forged": ["missing_signature"],
  stale: ["timestamp_out_of_tolerance"],
  future: ["timestamp_out_of_tolerance"],
};

async function signatureFor(
  sig: SigMode,
  bytes: Uint8Array,
  garbage: string,
): Promise<Record<string, string>> {
  switch (sig.mode) {
    case "valid": {
      const headers = await signedHeaders(bytes, {
        scheme: sig.scheme,
        timestampSeconds: NOW_S + sig.skew,
      });
      if (!sig.stray) return headers;
      return sig.scheme === "hlf"
        ? { ...headers, "webhook-id": "msg_stray" }
        : { ...headers, "x-hlf-signature": `sha256=${"0".repeat(64)}` };
    }
    case "none":
      return {};
    case "wrong-secret":
      return await signedHeaders(bytes, {
        secret: `${INBOUND_SECRET}-rotated-out`,
        timestampSeconds: NOW_S,
      });
    case "other-body":
      return await signedHeaders(new Uint8Array([...bytes, 0x20]), { timestampSeconds: NOW_S });
    case "garbage":
      return garbage.length % 2 === 0 ? { "x-hlf-signature": garbage } : {
        "webhook-id": "msg_1",
        "webhook-timestamp": String(NOW_S),
        "webhook-signature": garbage,
      };
    case "partial": {
      const { "webhook-id": _id, ...rest } = await signedHeaders(bytes, {
        timestampSeconds: NOW_S,
      });
      return rest;
    }
    case "hlf-stray-forged":
      // A forged HLF signature next to a stray webhook-* header: nothing verifies, and the
      // Standard Webhooks reason is the one reported.
      return { "x-hlf-signature": `sha256=${"0".repeat(64)}`, "webhook-id": "msg_stray" };
    case "stale":
    case "future":
      return await signedHeaders(bytes, {
        timestampSeconds: NOW_S + (sig.mode === "stale" ? -1 : 1) * (TOLERANCE + sig.by),
      });
  }
}

// ---- the oracle ---------------------------------------------------------------------------------

interface Outcome {
  status: number;
  json: Record<string, unknown> | null;
}

async function post(bytes: Uint8Array, headers: Record<string, string>): Promise<Outcome> {
  const res = await app.request("/dynamics-webhook", {
    method: "POST",
    headers,
    body: new Uint8Array(bytes),
  });
  const raw = await res.text();
  let json: Record<string, unknown> | null = null;
  try {
    json = JSON.parse(raw);
  } catch {
    json = null;
  }
  return { status: res.status, json };
}

const ledgerHas = async (eventId: string) =>
  (await db.sql`select 1 from public.cert_notification_log where event_id = ${eventId}`).length > 0;

function expectErrorBody(out: Outcome, codes: string[]) {
  expect(out.json).toEqual({
    error: expect.objectContaining({ code: expect.any(String), message: expect.any(String) }),
  });
  expect(codes).toContain((out.json as { error: { code: string } }).error.code);
}

async function deliver(
  body: Body,
  sig: SigMode,
  garbage: string,
  type: string | undefined,
  extra: Record<string, string>,
) {
  const headers: Record<string, string> = {
    ...extra,
    ...(type === undefined ? {} : { "content-type": type }),
    ...(await signatureFor(sig, body.bytes, garbage)),
  };
  const before = await writeCounts(db.sql);
  const wasStored = body.eventId ? await ledgerHas(body.eventId) : false;
  const out = await post(body.bytes, headers);
  const after = await writeCounts(db.sql);

  tally(`${body.kind}:${out.status}`);
  tally(`sig-${sig.mode}:${out.status}`);
  expect(out.status).toBeLessThan(500);
  if (!JSON_TYPES.includes(type!)) {
    expect(out.status).toBe(415);
    expectErrorBody(out, ["unsupported_media_type"]);
  } else if (body.bytes.length > MAX_BODY) {
    expect(out.status).toBe(413);
    expectErrorBody(out, ["payload_too_large"]);
  } else if (sig.mode !== "valid") {
    expect(out.status).toBe(401);
    expectErrorBody(out, EXPECTED_REASON[sig.mode]);
  } else if (body.valid !== null) {
    expect(out.status).toBe(body.valid ? 200 : 400);
  } else {
    expect([200, 400]).toContain(out.status);
  }
  if (out.status === 400) expectErrorBody(out, ["invalid_request"]);
  if (out.status !== 200) {
    expect(after).toEqual(before);
    return;
  }
  const { status, eventId } = out.json as { status: string; eventId: string };
  if (body.valid) expect(eventId).toBe(body.eventId);
  expect(await ledgerHas(eventId)).toBe(true);
  if (body.valid) expect(status).toBe(wasStored ? "duplicate" : "accepted");
  expect(after.ledger).toBe(before.ledger + (status === "accepted" ? 1 : 0));
  if (after.issues > before.issues) tally("drift-effect");
}

const covered = (keys: string[]) => expect(keys.filter((k) => !seen.has(k))).toEqual([]);

const noPrototypePollution = () => {
  expect(Object.prototype).not.toHaveProperty("polluted");
  expect(Object.prototype).not.toHaveProperty("isAdmin");
  expect(({} as Record<string, unknown>).eventId).toBeUndefined();
};

/** 1,500 generated deliveries signed per `sig`; then what they must have covered. */
async function hostileRuns(
  sig: fc.Arbitrary<SigMode>,
  counter: "unsigned" | "signed",
  mustCover: string[],
) {
  await fc.assert(
    fc.asyncProperty(anyBody, sig, printable, contentType, extraHeaders, async (...c) => {
      cases[counter] += 1;
      await deliver(...c);
    }),
    { numRuns: 1500 },
  );
  noPrototypePollution();
  covered(mustCover);
}

describe("hostile inbound deliveries (in-process, generated)", () => {
  it(
    "without a valid signature: 401/413 with a JSON error and no row, whatever the body",
    () =>
      hostileRuns(badSig, "unsigned", [
        ...Object.keys(EXPECTED_REASON).map((mode) => `sig-${mode}:401`),
        "huge:413",
        "bytes:401",
        "bomb:401",
        "proto:401",
        "bytes:415",
      ]),
    120_000,
  );

  it(
    "with a valid signature: 200 only for a valid event, stored once; 400/413 write nothing",
    () =>
      hostileRuns(validSig, "signed", [
        "valid:200",
        "bomb-in-event:200",
        "duplicate-keys:200",
        "duplicate-keys:400",
        "proto:200",
        "proto:400",
        "non-utf8:400",
        "truncated:400",
        "bomb:400",
        "bytes:400",
        "huge:413",
        "mutated:400",
        "drift-effect",
      ]),
    120_000,
  );

  it("replays inside the window are duplicates; the same delivery later is refused", async () => {
    await fc.assert(
      fc.asyncProperty(
        eventArb,
        fc.array(fc.integer({ min: 0, max: TOLERANCE }), { minLength: 1, maxLength: 4 }),
        fc.integer({ min: 1, max: 10 ** 6 }),
        async (event, replayDelays, lateBy) => {
          cases.replays += 1;
          nowMs = NOW_MS;
          const init = await signedDelivery(event, { timestampSeconds: NOW_S });
          const send = () => post(encoder.encode(init.body), init.headers);
          const first = await send();
          const before = await writeCounts(db.sql);
          const statuses = [];
          for (const delay of replayDelays) {
            nowMs = NOW_MS + delay * 1000;
            statuses.push((await send()).json?.status);
          }
          nowMs = NOW_MS + (TOLERANCE + lateBy) * 1000;
          const late = await send();
          expect(first).toMatchObject({ status: 200, json: { status: "accepted" } });
          expect(statuses.every((s) => s === "duplicate")).toBe(true);
          expect(late.status).toBe(401);
          expectErrorBody(late, ["timestamp_out_of_tolerance"]);
          expect(await writeCounts(db.sql)).toEqual(before);
        },
      ),
      { numRuns: 200 },
    );
    nowMs = NOW_MS;
  }, 60_000);

  afterAll(() => {
    console.info(`inbound fuzz cases: ${JSON.stringify(cases)}`);
    console.info(`covered: ${JSON.stringify(Object.fromEntries([...seen].sort()))}`);
  });
});

describe("a burst of concurrent deliveries of one event (through the gateway)", () => {
  it(
    "200 concurrent deliveries of one drift event: one ledger row, one issue, one corrective event",
    async () => {
      const burstDb = await createTestDatabase();
      // On real Postgres the gateway gets enough connections for the inserts to truly race.
      const pool = burstDb.engine === "postgres" ? "16" : "2";
      const t = await startTestStack({
        db: burstDb,
        env: { DYNAMICS_INBOUND_SECRETS: INBOUND_SECRET, DB_POOL_MAX: pool },
      });
      try {
        const { mentorId } = await createListedMentor(t.db.sql);
        const event = listingChanged({ mentorId, listing: "unlisted" });
        const url = `${t.stack.functionsUrl}/dynamics-webhook`;
        // Every retry of Dynamics is signed anew: its own webhook-id and timestamp, same event.
        const deliveries = await Promise.all(
          Array.from({ length: 200 }, () => signedDelivery(event)),
        );
        const before = await writeCounts(t.db.sql);
        const responses = await Promise.all(
          deliveries.map(async (init) => {
            const res = await fetch(url, init);
            return { status: res.status, body: await res.json() };
          }),
        );
        expect(responses.filter((r) => r.status !== 200)).toEqual([]);
        const statuses = responses.map((r) => r.body.status);
        expect(statuses.filter((s) => s === "accepted")).toHaveLength(1);
        expect(statuses.filter((s) => s === "duplicate")).toHaveLength(199);
        const after = await writeCounts(t.db.sql);
        expect(after.ledger - before.ledger).toBe(1);
        expect(after.issues - before.issues).toBe(1);
        expect(after.events - before.events).toBe(1);
        const [issue] = await t.db.sql`
        select kind, detail->>'inboundEventId' as inbound from public.sync_issues
        where mentor_id = ${mentorId}`;
        expect(issue).toEqual({ kind: "drift", inbound: event.eventId });
      } finally {
        await t.close();
        await burstDb.close();
      }
    },
    120_000,
  );
});
