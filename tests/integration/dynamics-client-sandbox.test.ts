// The Dynamics client against the sandbox over real HTTP. Time is virtual (injected clock and sleep):
// backoff and Retry-After waits are recorded, not waited for. Every case checks the attempt count,
// the attempt records and that the sandbox's counters agree.
import { describe, expect, it } from "vitest";
import { type AttemptRecord, createDynamicsClient } from "../../shared/dynamics/dynamics-client.ts";
import { toJson } from "../../shared/contract/payload.ts";
import { outboundHeaders } from "../../shared/contract/signer.ts";
import type { ClientOverrides } from "../support/config-defaults.ts";
import { createFakeClock } from "../support/fake-clock.ts";
import { payload } from "../support/payload-factory.ts";
import {
  TEST_API_KEY,
  TEST_API_KEY_HEADER,
  TEST_CLIENT_SECRET,
  TEST_SIGNING_SECRET,
  useTestSandbox,
} from "../support/sandbox.ts";

const sandbox = useTestSandbox();

function setup(overrides: Partial<ClientOverrides> = {}) {
  const clock = createFakeClock();
  const client = createDynamicsClient(
    sandbox().clientOptions({
      retry: { maxRetries: 4, baseDelayMs: 250, maxDelayMs: 10_000, retryAfterCapMs: 60_000 },
      // Generous: a cold first request on a busy machine must not look like a hang.
      attemptTimeoutMs: 5000,
      circuit: false,
      now: clock.now,
      sleep: clock.sleep,
      random: () => 0.5,
      ...overrides,
    }),
  );

  async function send(budgetMs?: number) {
    const event = payload({ eventId: crypto.randomUUID(), occurredAt: new Date(clock.now()) });
    const body = toJson(event);
    const records: AttemptRecord[] = [];
    const outcome = await client.send({
      eventId: event.eventId,
      body,
      budgetMs,
      headers: ({ nowMs }) =>
        outboundHeaders({
          id: event.eventId,
          body,
          secret: TEST_SIGNING_SECRET,
          timestampSeconds: nowMs / 1000,
        }),
      onAttempt: (record) => {
        records.push(record);
      },
    });
    return { event, outcome, records };
  }
  return { clock, client, send };
}

/** [attempt, status, outcome, errorCode] per record: the shape the audit log stores. */
const summary = (records: AttemptRecord[]) =>
  records.map((r) => [r.attempt, r.status, r.outcome, r.errorCode]);

describe("client against the sandbox", () => {
  it("delivers on the first attempt", async () => {
    const { send } = setup();
    const { event, outcome, records } = await send();
    expect(outcome).toEqual({ ok: true, status: 204, attempts: 1 });
    expect(summary(records)).toEqual([[1, 204, "delivered", null]]);
    expect(await sandbox().control.counters()).toMatchObject({
      requests: 1,
      delivered: 1,
      tokenRequests: 1,
    });
    expect(await sandbox().control.listing(event.mentorId)).toMatchObject({ listing: "unlisted" });
  });

  it("503 ×3 then success: four attempts with backoff between them", async () => {
    await sandbox().control.faults({ kind: "status", status: 503, count: 3 });
    const { send, clock } = setup();
    const { outcome, records } = await send();
    expect(outcome).toEqual({ ok: true, status: 204, attempts: 4 });
    expect(summary(records)).toEqual([
      [1, 503, "retryable", "http_503"],
      [2, 503, "retryable", "http_503"],
      [3, 503, "retryable", "http_503"],
      [4, 204, "delivered", null],
    ]);
    expect(clock.sleeps).toEqual([125, 250, 500]);
    expect(await sandbox().control.counters()).toMatchObject({
      requests: 4,
      delivered: 1,
      faultsServed: { status: 3 },
    });
  });

  it("429 with Retry-After: 2 waits at least 2 s before retrying", async () => {
    await sandbox().control.faults({ kind: "rate_limit", retryAfterSeconds: 2 });
    const { send, clock } = setup();
    const { outcome, records } = await send();
    expect(outcome).toEqual({ ok: true, status: 204, attempts: 2 });
    expect(summary(records)).toEqual([[1, 429, "retryable", "http_429"], [
      2,
      204,
      "delivered",
      null,
    ]]);
    expect(records[0].retryAfterMs).toBe(2000);
    expect(clock.sleeps).toEqual([2000]);
    expect(await sandbox().control.counters()).toMatchObject({
      requests: 2,
      delivered: 1,
      throttled: 1,
    });
  });

  it("429 with Retry-After as an HTTP-date waits until that date", async () => {
    await sandbox().control.faults({
      kind: "rate_limit",
      retryAfterSeconds: 5,
      format: "http-date",
    });
    const { send, clock } = setup();
    const { outcome } = await send();
    expect(outcome).toMatchObject({ ok: true, attempts: 2 });
    // An HTTP-date has whole seconds, so up to one second is lost to truncation.
    expect(clock.sleeps).toHaveLength(1);
    expect(clock.sleeps[0]).toBeGreaterThan(3500);
    expect(clock.sleeps[0]).toBeLessThanOrEqual(5000);
  });

  it("a hanging request times out and is retried", async () => {
    await sandbox().control.faults({ kind: "hang", ms: 30_000 });
    const { send } = setup({ attemptTimeoutMs: 200 });
    const { outcome, records } = await send();
    expect(outcome).toEqual({ ok: true, status: 204, attempts: 2 });
    expect(summary(records)).toEqual([[1, null, "retryable", "timeout"], [
      2,
      204,
      "delivered",
      null,
    ]]);
    expect(await sandbox().control.counters()).toMatchObject({
      requests: 2,
      delivered: 1,
      faultsServed: { hang: 1 },
    });
  });

  it("a reset connection is retried", async () => {
    await sandbox().control.faults({ kind: "reset" });
    const { send } = setup();
    const { outcome, records } = await send();
    expect(outcome).toEqual({ ok: true, status: 204, attempts: 2 });
    expect(summary(records)).toEqual([[1, null, "retryable", "network"], [
      2,
      204,
      "delivered",
      null,
    ]]);
    expect(records[0].error).toMatch(/^network error: fetch failed/);
    expect(await sandbox().control.counters()).toMatchObject({
      requests: 2,
      delivered: 1,
      faultsServed: { reset: 1 },
    });
  });

  it("a token that expires mid-stream is refreshed exactly once", async () => {
    const { send } = setup();
    expect((await send()).outcome).toMatchObject({ ok: true, attempts: 1 });
    await sandbox().control.expireTokens();
    const { outcome, records } = await send();
    expect(outcome).toEqual({ ok: true, status: 204, attempts: 2 });
    expect(summary(records)).toEqual([[1, 401, "auth", "token_rejected"], [
      2,
      204,
      "delivered",
      null,
    ]]);
    expect((await send()).outcome).toMatchObject({ ok: true, attempts: 1 });
    expect(await sandbox().control.counters()).toMatchObject({
      requests: 4,
      delivered: 3,
      tokenRequests: 2,
      rejected: { expired_token: 1 },
    });
  });

  it("refreshes before expiry (client clock) without a 401", async () => {
    const { send, clock } = setup();
    await send();
    // 60 s tokens, skew clamped to 30 s: at +30 s the client fetches a new one on its own.
    clock.advance(30_000);
    const { outcome } = await send();
    expect(outcome).toEqual({ ok: true, status: 204, attempts: 1 });
    expect(await sandbox().control.counters()).toMatchObject({ tokenRequests: 2, rejected: {} });
  });

  it("a token endpoint that is down gives an auth outcome and no attempt", async () => {
    await sandbox().control.faults({ kind: "token_down", count: 5 });
    const { send } = setup();
    const { outcome, records } = await send();
    expect(outcome).toEqual({
      ok: false,
      attempts: 0,
      error: {
        kind: "auth",
        code: "token_endpoint_error",
        status: 503,
        message: expect.stringMatching(
          /^token endpoint answered 503 temporarily_unavailable: AADSTS50196: /,
        ),
      },
    });
    expect(records).toEqual([]);
    expect(await sandbox().control.counters()).toMatchObject({ requests: 0, tokenRequests: 1 });
  });

  it.each([
    ["422 (business rule)", 422],
    ["400 (bad request)", 400],
  ])("%s is permanent after one attempt", async (_, status) => {
    await sandbox().control.faults({ kind: "status", status });
    const { send, clock } = setup();
    const { outcome, records } = await send();
    expect(outcome).toMatchObject({
      ok: false,
      attempts: 1,
      error: { kind: "permanent", code: `http_${status}`, status },
    });
    expect(summary(records)).toEqual([[1, status, "permanent", `http_${status}`]]);
    expect(clock.sleeps).toEqual([]);
    expect((await sandbox().control.counters()).requests).toBe(1);
  });

  it("an invalid payload is a permanent 400 after one attempt", async () => {
    const { clock } = setup();
    const client = createDynamicsClient(
      sandbox().clientOptions({ now: clock.now, sleep: clock.sleep }),
    );
    const records: AttemptRecord[] = [];
    const outcome = await client.send({
      eventId: "e",
      body: '{"schemaVersion":2}',
      headers: ({ nowMs }) =>
        outboundHeaders({
          id: "e",
          body: '{"schemaVersion":2}',
          secret: TEST_SIGNING_SECRET,
          timestampSeconds: nowMs / 1000,
        }),
      onAttempt: (r) => void records.push(r),
    });
    expect(outcome).toMatchObject({
      ok: false,
      attempts: 1,
      error: { kind: "permanent", code: "http_400" },
    });
    expect(outcome.ok || outcome.error.message).toMatch(/^HTTP 400: 0x80048d19 /);
    expect(records).toHaveLength(1);
    expect(await sandbox().control.counters()).toMatchObject({
      requests: 1,
      rejected: { invalid_payload: 1 },
    });
  });

  it("a wrong webhook path is a permanent 404 after one attempt", async () => {
    const { send } = setup({ webhookUrl: `${sandbox().url}/api/data/v9.2/hlf_nosuchentity` });
    const { outcome, records } = await send();
    expect(outcome).toMatchObject({
      ok: false,
      attempts: 1,
      error: { kind: "permanent", code: "http_404" },
    });
    expect(summary(records)).toEqual([[1, 404, "permanent", "http_404"]]);
  });

  it("exhausted retries return a typed retryable failure", async () => {
    await sandbox().control.faults({ kind: "status", status: 502, count: 10 });
    const { send, clock } = setup({ retry: { maxRetries: 2 } });
    const { outcome, records } = await send();
    expect(outcome).toEqual({
      ok: false,
      attempts: 3,
      error: {
        kind: "retryable",
        code: "http_502",
        status: 502,
        message: "HTTP 502: 0x80040216 Injected fault.",
      },
    });
    expect(records.map((r) => r.errorCode)).toEqual(["http_502", "http_502", "http_502"]);
    expect(clock.sleeps).toHaveLength(2);
    expect((await sandbox().control.counters()).requests).toBe(3);
  });

  it("an open circuit refuses further sends without touching the sandbox", async () => {
    await sandbox().control.faults({ kind: "status", status: 503, count: 100 });
    const { send } = setup({
      circuit: { failureThreshold: 3, cooldownMs: 60_000 },
      retry: { maxRetries: 10 },
    });
    const first = await send();
    // Attempt records are the requests the sandbox saw: the refusal made none.
    expect(summary(first.records).map((r) => r[3])).toEqual(["http_503", "http_503", "http_503"]);
    expect(first.outcome).toMatchObject({ ok: false, error: { code: "circuit_open" } });
    const second = await send();
    expect(second.outcome).toMatchObject({
      ok: false,
      attempts: 0,
      error: { code: "circuit_open" },
    });
    expect(second.records).toEqual([]);
    expect((await sandbox().control.counters()).requests).toBe(3);
  });

  it("works in apikey mode", async () => {
    const { send } = setup({
      auth: { mode: "apikey", header: TEST_API_KEY_HEADER, key: TEST_API_KEY },
    });
    expect((await send()).outcome).toEqual({ ok: true, status: 204, attempts: 1 });
    expect(await sandbox().control.counters()).toMatchObject({ delivered: 1, tokenRequests: 0 });
  });
});

describe("concurrency", () => {
  it("50 concurrent sends with an expired token (client clock) make exactly one token request", async () => {
    const { send, clock } = setup();
    await send();
    clock.advance(61_000);
    const results = await Promise.all(Array.from({ length: 50 }, () => send()));
    expect(results.every((r) => r.outcome.ok && r.outcome.attempts === 1)).toBe(true);
    expect(await sandbox().control.counters()).toMatchObject({ tokenRequests: 2, delivered: 51 });
  });

  it("50 concurrent sends rejected with 401 (server expiry) share one refresh", async () => {
    const { send } = setup();
    await send();
    await sandbox().control.expireTokens();
    const results = await Promise.all(Array.from({ length: 50 }, () => send()));
    expect(results.every((r) => r.outcome.ok)).toBe(true);
    const counters = await sandbox().control.counters();
    expect(counters).toMatchObject({ tokenRequests: 2, delivered: 51 });
    // Every 401 is matched by exactly one extra attempt.
    const attempts = results.reduce((n, r) => n + r.outcome.attempts, 0);
    expect(attempts).toBe(50 + (counters.rejected.expired_token ?? 0));
  });
});

describe("secrets", () => {
  it("never reach attempt records or outcomes, even when the servers echo them", async () => {
    await sandbox().control.faults([
      { kind: "status", status: 503, echoHeaders: true },
      { kind: "status", status: 400, echoHeaders: true },
    ]);
    const { send } = setup();
    const api = await send();
    await sandbox().control.faults({ kind: "token_down", echoRequest: true });
    const tokenFailure = await (setup().send());
    const everything = JSON.stringify(
      [api, tokenFailure].map(({ outcome, records }) => ({ outcome, records })),
    );
    const issuedTokens = [...sandbox().state.tokens.keys()];
    expect(issuedTokens.length).toBeGreaterThan(0);
    for (const secret of [TEST_CLIENT_SECRET, TEST_SIGNING_SECRET, ...issuedTokens]) {
      expect(everything).not.toContain(secret);
    }
    // The echoes did happen: redaction, not silence, kept them out.
    expect(everything).toContain("Bearer [redacted]");
    expect(everything).toContain("client_secret=[redacted]");
    expect(api.records.map((r) => r.errorCode)).toEqual(["http_503", "http_400"]);
    expect(tokenFailure.outcome).toMatchObject({ ok: false, error: { kind: "auth", status: 503 } });
  });
});
