import { describe, expect, it } from "vitest";
import {
  type AttemptRecord,
  createDynamicsClient,
  type DynamicsRequest,
} from "../../shared/dynamics/dynamics-client.ts";
import {
  type ClientOverrides,
  refreshSkewSeconds,
  withClientDefaults,
} from "../support/config-defaults.ts";
import { createFakeClock } from "../support/fake-clock.ts";
import {
  fakeFetch,
  hangUntilAborted,
  json,
  networkFailure,
  type RecordedRequest,
} from "../support/fake-fetch.ts";

const WEBHOOK = "https://org.crm4.dynamics.com/api/data/v9.2/hlf_certificationwebhooks";
const TOKEN_URL = "https://login.example/tenant-1/oauth2/v2.0/token";
const CLIENT_SECRET = "client-secret-Rk5mN1";
const EVENT_ID = "6f1c2b9e-4d7a-4c1e-9b3f-2a5d8e7c1f40";
const BODY = JSON.stringify({ eventId: EVENT_ID });

type ApiHandler = (request: RecordedRequest, apiIndex: number) => Response | Promise<Response>;

/** Token endpoint issuing tok-1, tok-2...; every other URL is the API, answered by `api`. */
function dynamics(api: ApiHandler) {
  let tokens = 0;
  let apiCalls = 0;
  const fetch = fakeFetch((request) => {
    if (request.url === TOKEN_URL) {
      tokens += 1;
      return json({ token_type: "Bearer", expires_in: 3600, access_token: `tok-${tokens}` });
    }
    return api(request, apiCalls++);
  });
  return {
    fetch,
    apiCalls: () => fetch.calls.filter((c) => c.url === WEBHOOK),
    tokenCalls: () => fetch.calls.filter((c) => c.url === TOKEN_URL),
  };
}

function statuses(...codes: number[]): ApiHandler {
  return (_, i) => new Response(null, { status: codes[Math.min(i, codes.length - 1)] });
}

function setup(api: ApiHandler, overrides: Partial<ClientOverrides> = {}) {
  const clock = createFakeClock(Date.parse("2026-11-22T10:00:00.000Z"));
  const server = dynamics(api);
  const client = createDynamicsClient(withClientDefaults({
    webhookUrl: WEBHOOK,
    auth: {
      mode: "oauth2",
      tokenUrl: TOKEN_URL,
      clientId: "c1",
      clientSecret: CLIENT_SECRET,
      scope: "s/.default",
      refreshSkewSeconds,
    },
    retry: { maxRetries: 4, baseDelayMs: 100, maxDelayMs: 1000, retryAfterCapMs: 30_000 },
    circuit: false,
    fetch: server.fetch,
    now: clock.now,
    sleep: clock.sleep,
    random: () => 0.5,
    ...overrides,
  }));
  return { clock, server, client };
}

function request(overrides: Partial<DynamicsRequest> = {}) {
  const records: AttemptRecord[] = [];
  const headerCalls: { attempt: number; nowMs: number }[] = [];
  const req: DynamicsRequest = {
    eventId: EVENT_ID,
    body: BODY,
    headers: (ctx) => {
      headerCalls.push(ctx);
      return Promise.resolve({
        "Idempotency-Key": EVENT_ID,
        "webhook-timestamp": String(ctx.nowMs),
      });
    },
    onAttempt: (record) => {
      records.push(record);
    },
    ...overrides,
  };
  return { req, records, headerCalls };
}

const summary = (records: AttemptRecord[]) =>
  records.map((r) => [r.attempt, r.status, r.outcome, r.errorCode, r.retryAfterMs]);

describe("delivery", () => {
  it("sends body, fresh signing headers and the bearer token; one attempt record", async () => {
    const { client, server, clock } = setup(statuses(204));
    const { req, records, headerCalls } = request();
    expect(await client.send(req)).toEqual({ ok: true, status: 204, attempts: 1 });
    const [call] = server.apiCalls();
    expect(call.method).toBe("POST");
    expect(call.body).toBe(BODY);
    expect(call.headers.get("authorization")).toBe("Bearer tok-1");
    expect(call.headers.get("idempotency-key")).toBe(EVENT_ID);
    expect(call.headers.get("content-type")).toBe("application/json");
    expect(headerCalls).toEqual([{ attempt: 1, nowMs: clock.now() }]);
    expect(records).toEqual([{
      attempt: 1,
      startedAt: new Date(clock.now()),
      finishedAt: new Date(clock.now()),
      durationMs: 0,
      status: 204,
      outcome: "delivered",
      errorCode: null,
      error: null,
      retryAfterMs: null,
    }]);
  });

  it("token requests are not attempts", async () => {
    const { client, server } = setup(statuses(200));
    const { req, records } = request();
    await client.send(req);
    expect(server.tokenCalls()).toHaveLength(1);
    expect(records).toHaveLength(1);
  });
});

describe("retries", () => {
  it("retries 503s with jittered exponential backoff, re-signing each attempt", async () => {
    const { client, clock } = setup(statuses(503, 503, 503, 200));
    const { req, records, headerCalls } = request();
    const start = clock.now();
    expect(await client.send(req)).toEqual({ ok: true, status: 200, attempts: 4 });
    // random() = 0.5 → half of 100, 200, 400.
    expect(clock.sleeps).toEqual([50, 100, 200]);
    expect(summary(records)).toEqual([
      [1, 503, "retryable", "http_503", null],
      [2, 503, "retryable", "http_503", null],
      [3, 503, "retryable", "http_503", null],
      [4, 200, "delivered", null, null],
    ]);
    expect(headerCalls.map((c) => [c.attempt, c.nowMs - start])).toEqual([
      [1, 0],
      [2, 50],
      [3, 150],
      [4, 350],
    ]);
  });

  it.each([408, 425, 429, 500, 502, 504])("retries %i", async (status) => {
    const { client } = setup(statuses(status, 204));
    expect(await client.send(request().req)).toEqual({ ok: true, status: 204, attempts: 2 });
  });

  it("honours Retry-After instead of the backoff, up to the cap", async () => {
    const { client, clock } = setup((_, i) =>
      i === 0
        ? new Response(null, { status: 429, headers: { "Retry-After": "2" } })
        : i === 1
        ? new Response(null, { status: 503, headers: { "Retry-After": "3600" } })
        : new Response(null, { status: 204 })
    );
    const { req, records } = request();
    expect(await client.send(req)).toMatchObject({ ok: true, attempts: 3 });
    expect(clock.sleeps).toEqual([2000, 30_000]);
    expect(records.map((r) => r.retryAfterMs)).toEqual([2000, 30_000, null]);
  });

  it("stops after maxRetries and returns the last failure, typed", async () => {
    const { client, clock, server } = setup(statuses(502), {
      retry: { maxRetries: 2, baseDelayMs: 100 },
    });
    const { req, records } = request();
    const outcome = await client.send(req);
    expect(outcome).toEqual({
      ok: false,
      attempts: 3,
      error: { kind: "retryable", code: "http_502", status: 502, message: "HTTP 502" },
    });
    expect(records).toHaveLength(3);
    expect(server.apiCalls()).toHaveLength(3);
    expect(clock.sleeps).toHaveLength(2);
  });

  it("retries network failures and timeouts", async () => {
    const { client } = setup(
      (request, i) => {
        if (i === 0) throw networkFailure("ECONNRESET");
        if (i === 1) return hangUntilAborted(request);
        return new Response(null, { status: 204 });
      },
      { attemptTimeoutMs: 20 },
    );
    const { req, records } = request();
    expect(await client.send(req)).toMatchObject({ ok: true, attempts: 3 });
    expect(summary(records)).toEqual([
      [1, null, "retryable", "network", null],
      [2, null, "retryable", "timeout", null],
      [3, 204, "delivered", null, null],
    ]);
    expect(records[0].error).toBe("network error: fetch failed: ECONNRESET: socket hang up");
  });
});

describe("permanent failures", () => {
  it.each([400, 403, 404, 409, 422, 501, 505])("%i is not retried", async (status) => {
    const body = JSON.stringify({ error: { code: "0x80048d19", message: "Bad payload" } });
    const { client, clock } = setup(() => new Response(body, { status }));
    const { req, records } = request();
    expect(await client.send(req)).toEqual({
      ok: false,
      attempts: 1,
      error: {
        kind: "permanent",
        code: `http_${status}`,
        status,
        message: `HTTP ${status}: 0x80048d19 Bad payload`,
      },
    });
    expect(summary(records)).toEqual([[1, status, "permanent", `http_${status}`, null]]);
    expect(clock.sleeps).toEqual([]);
  });

  it("a 3xx is not followed (it would carry the token elsewhere) and is permanent", async () => {
    const { client, server } = setup(() =>
      new Response(null, { status: 302, headers: { Location: "https://elsewhere.example/" } })
    );
    expect(await client.send(request().req)).toMatchObject({
      ok: false,
      attempts: 1,
      error: { code: "http_302" },
    });
    expect(server.apiCalls()[0].redirect).toBe("manual");
  });

  it("a failing headers callback is permanent and makes no request", async () => {
    const { client, server } = setup(statuses(204));
    const { req } = request({ headers: () => Promise.reject(new Error("no signing key")) });
    expect(await client.send(req)).toMatchObject({
      ok: false,
      attempts: 0,
      error: { kind: "permanent", code: "headers_failed" },
    });
    expect(server.apiCalls()).toHaveLength(0);
  });
});

describe("authentication", () => {
  it("a 401 refreshes the token and retries at once, without spending a retry", async () => {
    const { client, server, clock } = setup(statuses(401, 204), { retry: { maxRetries: 0 } });
    const { req, records } = request();
    expect(await client.send(req)).toEqual({ ok: true, status: 204, attempts: 2 });
    expect(server.apiCalls().map((c) => c.headers.get("authorization"))).toEqual([
      "Bearer tok-1",
      "Bearer tok-2",
    ]);
    expect(summary(records)).toEqual([[1, 401, "auth", "token_rejected", null], [
      2,
      204,
      "delivered",
      null,
      null,
    ]]);
    expect(clock.sleeps).toEqual([]);
  });

  it("a second 401 is an auth outcome: only one refresh per send", async () => {
    const { client, server } = setup(statuses(401));
    const outcome = await client.send(request().req);
    expect(outcome).toMatchObject({
      ok: false,
      attempts: 2,
      error: { kind: "auth", code: "token_rejected", status: 401 },
    });
    expect(server.tokenCalls()).toHaveLength(2);
  });

  it("in apikey mode a 401 is final", async () => {
    const { client, server } = setup(statuses(401), {
      auth: { mode: "apikey", header: "x-api-key", key: "key-Pq92" },
    });
    const outcome = await client.send(request().req);
    expect(outcome).toMatchObject({
      ok: false,
      attempts: 1,
      error: { kind: "auth", code: "api_key_rejected" },
    });
    expect(server.apiCalls()[0].headers.get("x-api-key")).toBe("key-Pq92");
    expect(server.tokenCalls()).toHaveLength(0);
  });

  it("a failing token endpoint is an auth outcome with no attempt made", async () => {
    const fetch = fakeFetch((r) =>
      r.url === TOKEN_URL
        ? json({ error: "temporarily_unavailable" }, 503)
        : new Response(null, { status: 204 })
    );
    const { client } = setup(statuses(204), { fetch });
    const { req, records } = request();
    expect(await client.send(req)).toEqual({
      ok: false,
      attempts: 0,
      error: {
        kind: "auth",
        code: "token_endpoint_error",
        status: 503,
        message: "token endpoint answered 503 temporarily_unavailable",
      },
    });
    expect(records).toEqual([]);
    expect(fetch.calls.filter((c) => c.url === WEBHOOK)).toHaveLength(0);
  });
});

describe("time budget", () => {
  it("does not start a Retry-After sleep that would end past the budget", async () => {
    const { client, clock } = setup(
      (_, i) =>
        i === 0
          ? new Response(null, { status: 429, headers: { "Retry-After": "5" } })
          : new Response(null),
      { budgetMs: 4000 },
    );
    const outcome = await client.send(request().req);
    expect(outcome).toMatchObject({
      ok: false,
      attempts: 1,
      error: { code: "http_429", retryAfterMs: 5000 },
    });
    expect(clock.sleeps).toEqual([]);
  });

  it("stops backing off when the next sleep plus a minimal attempt would overrun", async () => {
    const { client, clock } = setup(statuses(503), {
      budgetMs: 1000,
      random: () => 0.99,
      retry: { baseDelayMs: 400, maxDelayMs: 10_000, maxRetries: 10, minAttemptMs: 100 },
    });
    const { req, records } = request();
    expect(await client.send(req)).toMatchObject({
      ok: false,
      attempts: 2,
      error: { code: "http_503" },
    });
    // 396 ms fits (396 + 100 ≤ 1000); the next 792 ms would not.
    expect(clock.sleeps).toEqual([396]);
    expect(records).toHaveLength(2);
  });

  it("a per-request budget overrides the client's", async () => {
    const { client, clock } = setup(statuses(503, 204), { budgetMs: 100_000 });
    const outcome = await client.send(request({ budgetMs: 10 }).req);
    expect(outcome).toMatchObject({ ok: false, attempts: 1 });
    expect(clock.sleeps).toEqual([]);
  });

  it("clamps the attempt timeout to what is left of the budget", async () => {
    const { client } = setup(hangUntilAborted, { budgetMs: 30, attemptTimeoutMs: 60_000 });
    expect(await client.send(request().req)).toMatchObject({
      ok: false,
      attempts: 1,
      error: { code: "timeout" },
    });
  });
});

describe("circuit breaker", () => {
  it("opens after consecutive outage failures and then refuses without a request", async () => {
    const { client, server } = setup(statuses(503), {
      circuit: { failureThreshold: 2, cooldownMs: 5000 },
      retry: { maxRetries: 5, baseDelayMs: 10 },
    });
    const first = request();
    const outcome = await client.send(first.req);
    // Opened at the 2nd failure; the 10 ms backoff sleep has since passed. The refusal is not an
    // attempt: no request went out, so nothing is reported to the audit hook.
    expect(outcome).toMatchObject({
      ok: false,
      attempts: 2,
      error: { kind: "retryable", code: "circuit_open", retryAfterMs: 5000 - 10 },
    });
    expect(summary(first.records)).toEqual([
      [1, 503, "retryable", "http_503", null],
      [2, 503, "retryable", "http_503", null],
    ]);
    expect(server.apiCalls()).toHaveLength(2);
    expect(client.circuitState()).toBe("open");

    const second = request();
    expect(await client.send(second.req)).toMatchObject({
      ok: false,
      attempts: 0,
      error: { code: "circuit_open" },
    });
    expect(second.records).toEqual([]);
    expect(server.apiCalls()).toHaveLength(2);
  });

  it("after the cooldown a probe goes out and a success closes the circuit", async () => {
    const { client, clock, server } = setup(statuses(503, 503, 204), {
      circuit: { failureThreshold: 2, cooldownMs: 5000 },
      retry: { maxRetries: 1 },
    });
    await client.send(request().req);
    expect(client.circuitState()).toBe("open");
    clock.advance(5000);
    expect(await client.send(request().req)).toEqual({ ok: true, status: 204, attempts: 1 });
    expect(client.circuitState()).toBe("closed");
    expect(server.apiCalls()).toHaveLength(3);
  });

  it("does not count 4xx or 429 as outage", async () => {
    const { client } = setup(statuses(429, 429, 429, 400), {
      circuit: { failureThreshold: 2, cooldownMs: 5000 },
    });
    expect(await client.send(request().req)).toMatchObject({
      ok: false,
      attempts: 4,
      error: { code: "http_400" },
    });
    expect(client.circuitState()).toBe("closed");
  });
});

describe("robustness", () => {
  it("the caller's abort stops the send without retrying", async () => {
    const controller = new AbortController();
    const { client, server } = setup((request) => {
      controller.abort();
      return hangUntilAborted(request);
    });
    const { req, records } = request({ signal: controller.signal });
    expect(await client.send(req)).toMatchObject({
      ok: false,
      attempts: 1,
      error: { code: "aborted" },
    });
    expect(records.map((r) => r.errorCode)).toEqual(["aborted"]);
    expect(server.apiCalls()).toHaveLength(1);
  });

  it("a throwing onAttempt hook does not change the outcome", async () => {
    const { client } = setup(statuses(503, 204));
    const { req } = request({ onAttempt: () => Promise.reject(new Error("audit table down")) });
    expect(await client.send(req)).toEqual({ ok: true, status: 204, attempts: 2 });
  });
});

describe("secrets", () => {
  it("never puts the client secret, tokens or extra secrets into records or outcomes", async () => {
    const signingSecret = "signing-secret-Vb31zX";
    const { client } = setup(
      (request, i) => {
        // Dynamics (or a proxy) echoing what it received: the worst case for leaks.
        const echo = JSON.stringify({
          error: {
            code: "0x80040216",
            message: `saw ${
              request.headers.get("authorization")
            } and ${signingSecret} and tok-1 and ${CLIENT_SECRET}`,
          },
        });
        return new Response(echo, { status: i === 0 ? 401 : i === 1 ? 503 : 400 });
      },
      { secrets: [signingSecret] },
    );
    const { req, records } = request();
    const outcome = await client.send(req);
    const everything = JSON.stringify({ outcome, records });
    for (const leak of [CLIENT_SECRET, "tok-1", "tok-2", signingSecret]) {
      expect(everything).not.toContain(leak);
    }
    expect(records.map((r) => r.errorCode)).toEqual(["token_rejected", "http_503", "http_400"]);
    expect(records[1].error).toContain("[redacted]");
  });
});
