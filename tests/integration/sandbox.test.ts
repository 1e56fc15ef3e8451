// The Dynamics sandbox over real HTTP: Entra-style token endpoint, Dataverse-like receiver, faults,
// throttle, control API and signed callbacks.
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { createSandboxApp, LISTINGS_PATH } from "../../local/dynamics-sandbox/app.ts";
import { parseInboundEvent } from "../../shared/contract/inbound.ts";
import { toJson, type WebhookPayloadV1 } from "../../shared/contract/payload.ts";
import { outboundHeaders, verifyWebhook } from "../../shared/contract/signer.ts";
import { payload } from "../support/payload-factory.ts";
import {
  startTestSandbox,
  TEST_API_KEY,
  TEST_CLIENT_ID,
  TEST_CLIENT_SECRET,
  TEST_SCOPE,
  TEST_SIGNING_SECRET,
  useTestSandbox,
} from "../support/sandbox.ts";
import { defaults } from "../support/config-defaults.ts";

const sandbox = useTestSandbox();

function tokenForm(overrides: Record<string, string> = {}) {
  return new URLSearchParams({
    grant_type: "client_credentials",
    client_id: TEST_CLIENT_ID,
    client_secret: TEST_CLIENT_SECRET,
    scope: TEST_SCOPE,
    ...overrides,
  });
}

async function requestToken(overrides: Record<string, string> = {}, url = sandbox().tokenUrl) {
  return await fetch(url, { method: "POST", body: tokenForm(overrides) });
}

async function token(): Promise<string> {
  return (await (await requestToken()).json()).access_token;
}

function event(overrides: Partial<Parameters<typeof payload>[0]> = {}): WebhookPayloadV1 {
  return payload({ eventId: crypto.randomUUID(), occurredAt: new Date(), ...overrides });
}

async function deliver(
  body: WebhookPayloadV1 | string,
  auth: Record<string, string>,
  secret = TEST_SIGNING_SECRET,
): Promise<Response> {
  const text = typeof body === "string" ? body : toJson(body);
  const id = typeof body === "string" ? crypto.randomUUID() : body.eventId;
  const headers = await outboundHeaders({
    id,
    body: text,
    secret,
    timestampSeconds: Date.now() / 1000,
  });
  return await fetch(sandbox().webhookUrl, {
    method: "POST",
    headers: { ...headers, ...auth },
    body: text,
  });
}

const bearer = async () => ({ Authorization: `Bearer ${await token()}` });

describe("token endpoint (Entra ID form)", () => {
  it("issues a bearer token with the configured lifetime", async () => {
    const response = await requestToken();
    expect(response.status).toBe(200);
    const body = await response.json();
    expect(body).toMatchObject({ token_type: "Bearer", expires_in: 60, ext_expires_in: 60 });
    expect(body.access_token).toEqual(expect.any(String));
    expect(await sandbox().control.counters()).toMatchObject({ tokenRequests: 1, tokensIssued: 1 });
  });

  it.each([
    ["a wrong secret", { client_secret: "nope" }, 401, "invalid_client", "AADSTS7000215"],
    ["an unknown client", { client_id: "other" }, 400, "unauthorized_client", "AADSTS700016"],
    [
      "another grant type",
      { grant_type: "password" },
      400,
      "unsupported_grant_type",
      "AADSTS70003",
    ],
    [
      "a scope without /.default",
      { scope: "https://x/user.read" },
      400,
      "invalid_scope",
      "AADSTS1002012",
    ],
  ])("answers %s with Entra's error", async (_, overrides, status, error, aadsts) => {
    const response = await requestToken(overrides);
    expect(response.status).toBe(status);
    const body = await response.json();
    expect(body.error).toBe(error);
    expect(body.error_description).toMatch(new RegExp(`^${aadsts}: `));
    expect(body.error_codes).toEqual([Number(aadsts.slice(6))]);
    expect(JSON.stringify(body)).not.toContain(TEST_CLIENT_SECRET);
  });

  it("rejects an unknown tenant", async () => {
    const response = await requestToken({}, `${sandbox().url}/other-tenant/oauth2/v2.0/token`);
    expect(response.status).toBe(400);
    expect((await response.json()).error).toBe("invalid_request");
  });

  it("token_down answers 503 for N requests, then recovers", async () => {
    await sandbox().control.faults({ kind: "token_down", count: 2 });
    expect((await requestToken()).status).toBe(503);
    const second = await requestToken();
    expect(await second.json()).toMatchObject({ error: "temporarily_unavailable" });
    expect((await requestToken()).status).toBe(200);
    expect((await sandbox().control.counters()).faultsServed).toEqual({ token_down: 2 });
  });
});

describe("webhook receiver", () => {
  it("applies an expiry: 204, mentor unlisted, event logged", async () => {
    const expiry = event();
    const response = await deliver(expiry, await bearer());
    expect(response.status).toBe(204);
    expect(response.headers.get("OData-EntityId")).toBe(
      `${sandbox().webhookUrl}(${expiry.eventId})`,
    );
    expect(await sandbox().control.listing(expiry.mentorId)).toMatchObject({
      listing: "unlisted",
      lastEventId: expiry.eventId,
      changes: 1,
    });
    expect(await sandbox().control.events()).toEqual([
      expect.objectContaining({
        sequence: 1,
        eventId: expiry.eventId,
        listing: "unlisted",
        signatureScheme: "standard-webhooks",
      }),
    ]);
  });

  it("a renewal relists; a duplicate answers 200 with no effect and is counted", async () => {
    const auth = await bearer();
    const expiry = event({ occurredAt: new Date("2026-11-22T10:00:00.000Z") });
    const renewal = event({
      eventType: "certification.renewed",
      certificationStatus: "active",
      occurredAt: new Date("2026-11-22T11:00:00.000Z"),
    });
    expect((await deliver(expiry, auth)).status).toBe(204);
    expect((await deliver(renewal, auth)).status).toBe(204);
    const duplicate = await deliver(expiry, auth);
    expect(duplicate.status).toBe(200);
    expect(await duplicate.json()).toEqual({ duplicate: true, eventId: expiry.eventId });
    expect(await sandbox().control.listing(expiry.mentorId)).toMatchObject({
      listing: "listed",
      changes: 2,
    });
    expect((await sandbox().control.events()).map((e) => e.eventId)).toEqual([
      expiry.eventId,
      renewal.eventId,
    ]);
    expect(await sandbox().control.counters()).toMatchObject({
      requests: 3,
      delivered: 2,
      duplicates: 1,
      outOfOrder: 0,
    });
  });

  it("counts an event older than the mentor's last applied one as out of order", async () => {
    const auth = await bearer();
    await deliver(event({ occurredAt: new Date("2026-11-22T11:00:00.000Z") }), auth);
    await deliver(event({ occurredAt: new Date("2026-11-22T10:00:00.000Z") }), auth);
    expect((await sandbox().control.counters()).outOfOrder).toBe(1);
  });

  it("accepts the api key header as the credential", async () => {
    expect((await deliver(event(), { "x-api-key": TEST_API_KEY })).status).toBe(204);
  });

  it.each([
    ["no credential", () => Promise.resolve({}), "missing_credentials"],
    [
      "an unknown token",
      () => Promise.resolve({ Authorization: "Bearer forged" }),
      "invalid_token",
    ],
    ["a wrong api key", () => Promise.resolve({ "x-api-key": "wrong" }), "invalid_api_key"],
  ])("rejects %s with 401 in Dataverse's shape", async (_, auth, reason) => {
    const response = await deliver(event(), await auth());
    expect(response.status).toBe(401);
    expect(response.headers.get("www-authenticate")).toMatch(/^Bearer error="invalid_token"/);
    expect(await response.json()).toEqual({
      error: { code: "0x80040220", message: `Unauthorized: ${reason}` },
    });
    expect((await sandbox().control.counters()).rejected).toEqual({ [reason]: 1 });
    expect(await sandbox().control.events()).toEqual([]);
  });

  it("rejects an expired token", async () => {
    const auth = await bearer();
    expect(await sandbox().control.expireTokens()).toBe(1);
    expect((await deliver(event(), auth)).status).toBe(401);
    expect((await sandbox().control.counters()).rejected).toEqual({ expired_token: 1 });
  });

  it("rejects a bad signature with 403 and applies nothing", async () => {
    const response = await deliver(event(), await bearer(), "some-other-secret");
    expect(response.status).toBe(403);
    expect((await response.json()).error.message).toBe(
      "Signature check failed: signature_mismatch",
    );
    expect(await sandbox().control.listings()).toEqual([]);
  });

  it("rejects an unsigned request", async () => {
    const response = await fetch(sandbox().webhookUrl, {
      method: "POST",
      headers: await bearer(),
      body: toJson(event()),
    });
    expect(response.status).toBe(403);
    expect((await sandbox().control.counters()).rejected).toEqual({ missing_signature: 1 });
  });

  it("rejects a payload that is not schema v1 with 400", async () => {
    const body = JSON.stringify({ ...JSON.parse(toJson(event())), schemaVersion: 2 });
    const response = await deliver(body, await bearer());
    expect(response.status).toBe(400);
    const { error } = await response.json();
    expect(error.code).toBe("0x80048d19");
    expect(error.message).toContain("schemaVersion");
  });

  it("answers unknown paths like Dataverse", async () => {
    const response = await fetch(`${sandbox().url}/api/data/v9.2/contacts`, { method: "POST" });
    expect(response.status).toBe(404);
    expect((await response.json()).error.code).toBe("0x80060888");
  });
});

describe("faults and throttling", () => {
  it("serves queued status faults in order, then recovers", async () => {
    await sandbox().control.faults([{ kind: "status", status: 503, count: 2 }, {
      kind: "status",
      status: 422,
    }]);
    const auth = await bearer();
    const statuses = [];
    for (let i = 0; i < 4; i++) statuses.push((await deliver(event(), auth)).status);
    expect(statuses).toEqual([503, 503, 422, 204]);
    expect(await sandbox().control.counters()).toMatchObject({
      requests: 4,
      delivered: 1,
      faultsServed: { status: 3 },
    });
  });

  it("rate_limit sends Retry-After as seconds or as an HTTP-date", async () => {
    await sandbox().control.faults([
      { kind: "rate_limit", retryAfterSeconds: 2 },
      { kind: "rate_limit", retryAfterSeconds: 30, format: "http-date" },
    ]);
    const auth = await bearer();
    const first = await deliver(event(), auth);
    expect([first.status, first.headers.get("retry-after")]).toEqual([429, "2"]);
    const second = await deliver(event(), auth);
    const date = Date.parse(second.headers.get("retry-after")!);
    expect(date - Date.now()).toBeGreaterThan(25_000);
    expect((await sandbox().control.counters()).throttled).toBe(2);
  });

  it("throttles beyond `limit` requests per window, Dataverse-style", async () => {
    await sandbox().control.throttle(2, 60_000);
    const auth = await bearer();
    const answers = [];
    for (let i = 0; i < 3; i++) answers.push(await deliver(event(), auth));
    expect(answers.map((a) => a.status)).toEqual([204, 204, 429]);
    const throttled = answers[2];
    expect(Number(throttled.headers.get("retry-after"))).toBeGreaterThanOrEqual(59);
    expect(throttled.headers.get("x-ms-retry-after-ms")).toBeNull();
    expect((await throttled.json()).error.code).toBe("0x80072322");
    await sandbox().control.clearThrottle();
    expect((await deliver(event(), auth)).status).toBe(204);
  });

  it("reset destroys the connection without an answer", async () => {
    await sandbox().control.faults({ kind: "reset" });
    await expect(deliver(event(), await bearer())).rejects.toThrow(/fetch failed/);
    expect(await sandbox().control.counters()).toMatchObject({
      faultsServed: { reset: 1 },
      delivered: 0,
    });
  });

  it("hang holds the request until the client gives up, and applies nothing", async () => {
    await sandbox().control.faults({ kind: "hang", ms: 60_000 });
    const body = toJson(event());
    const headers = await outboundHeaders({
      id: "x",
      body,
      secret: TEST_SIGNING_SECRET,
      timestampSeconds: Date.now() / 1000,
    });
    const request = fetch(sandbox().webhookUrl, {
      method: "POST",
      headers: { ...headers, ...(await bearer()) },
      body,
      signal: AbortSignal.timeout(100),
    });
    await expect(request).rejects.toThrow(/timeout|aborted/i);
    expect(await sandbox().control.events()).toEqual([]);
  });

  it("reject_token answers 401 to a valid token once", async () => {
    await sandbox().control.faults({ kind: "reject_token" });
    const auth = await bearer();
    expect((await deliver(event(), auth)).status).toBe(401);
    expect((await deliver(event(), auth)).status).toBe(204);
  });

  it("rejects an invalid fault list with the issues", async () => {
    const response = await fetch(`${sandbox().url}/__control/faults`, {
      method: "POST",
      body: JSON.stringify([{ kind: "explode" }]),
    });
    expect(response.status).toBe(400);
    expect((await response.json()).error.code).toBe("invalid_fault");
  });
});

describe("control API", () => {
  it("config changes apply and never show secret values", async () => {
    const shown = await sandbox().control.config({
      tokenLifetimeSeconds: 5,
      callbackSecret: "cb-secret-1234",
    });
    expect(shown).toMatchObject({
      tokenLifetimeSeconds: 5,
      callbackSecretConfigured: true,
      apiKeyConfigured: true,
    });
    expect(JSON.stringify(shown)).not.toMatch(/cb-secret-1234|test-client-secret|test-api-key/);
    expect((await (await requestToken()).json()).expires_in).toBe(5);
    await sandbox().control.config({ tokenLifetimeSeconds: 60, callbackSecret: null });
  });

  it("reset forgets listings, events, faults and counters", async () => {
    await deliver(event(), await bearer());
    await sandbox().control.faults({ kind: "status", status: 500, count: 5 });
    await sandbox().control.reset();
    expect(await sandbox().control.listings()).toEqual([]);
    expect(await sandbox().control.events()).toEqual([]);
    expect((await sandbox().control.counters()).requests).toBe(0);
    expect((await deliver(event(), { "x-api-key": TEST_API_KEY })).status).toBe(204);
  });

  it("a listing that does not exist is null", async () => {
    expect(await sandbox().control.listing(crypto.randomUUID())).toBeNull();
  });
});

describe("silent loss and the listings collection (what reconciliation reads)", () => {
  const listingsUrl = () => `${sandbox().url}${LISTINGS_PATH}`;

  it("silent_loss answers 204 to one in `every` matching events and applies none of them", async () => {
    await sandbox().control.faults({
      kind: "silent_loss",
      every: 2,
      count: 2,
      eventType: "certification.expired",
    });
    const auth = await bearer();
    const renewal = event({ eventType: "certification.renewed" });
    const expiries = Array.from({ length: 6 }, () => event({ mentorId: crypto.randomUUID() }));
    expect((await deliver(renewal, auth)).status).toBe(204);
    const statuses = [];
    for (const expiry of expiries) statuses.push((await deliver(expiry, auth)).status);
    expect(statuses).toEqual([204, 204, 204, 204, 204, 204]);
    const applied = new Set((await sandbox().control.events()).map((e) => e.eventId));
    // The 2nd and 4th expiry are lost; the renewal did not count towards `every`.
    expect(expiries.map((e) => applied.has(e.eventId))).toEqual([
      true,
      false,
      true,
      false,
      true,
      true,
    ]);
    expect(applied.has(renewal.eventId)).toBe(true);
    expect(await sandbox().control.counters()).toMatchObject({
      silentlyDropped: 2,
      delivered: 5,
      faultsServed: { silent_loss: 2 },
    });
    const lost = await sandbox().control.listing(expiries[1].mentorId);
    expect(lost).toBeNull();
  });

  it("PUT /__control/listings/:mentorId edits a listing as a portal editor would", async () => {
    const expiry = event();
    await deliver(expiry, await bearer());
    const edited = await sandbox().control.setListing(expiry.mentorId, "listed");
    expect(edited).toMatchObject({
      mentorId: expiry.mentorId,
      listing: "listed",
      lastEventId: expiry.eventId,
      changes: 2,
      source: "editor",
    });
    const fresh = crypto.randomUUID();
    expect(await sandbox().control.setListing(fresh, "unlisted")).toMatchObject({
      listing: "unlisted",
      lastEventId: null,
      source: "editor",
    });
    const put = (id: string, body: string) =>
      fetch(`${sandbox().url}/__control/listings/${id}`, { method: "PUT", body });
    expect((await put("not-a-uuid", '{"listing":"listed"}')).status).toBe(400);
    expect((await put(fresh, '{"listing":"maybe"}')).status).toBe(400);
    expect((await put(fresh, '{"listing":"listed","x":1}')).status).toBe(400);
    expect((await sandbox().control.listing(fresh))?.listing).toBe("unlisted");
  });

  it("serves the collection in pages: Prefer odata.maxpagesize, @odata.nextLink, $select", async () => {
    const ids = Array.from({ length: 7 }, () => crypto.randomUUID());
    for (const id of ids) await sandbox().control.setListing(id, "listed");
    const auth = await bearer();
    const seen: Record<string, unknown>[] = [];
    let url: string | undefined = `${listingsUrl()}?$select=hlf_mentorid,hlf_listing`;
    let pages = 0;
    while (url) {
      const response: Response = await fetch(url, {
        headers: { ...auth, Prefer: "odata.maxpagesize=3" },
      });
      expect(response.status).toBe(200);
      expect(response.headers.get("Preference-Applied")).toBe("odata.maxpagesize=3");
      const body = await response.json();
      expect(body.value.length).toBeLessThanOrEqual(3);
      seen.push(...body.value);
      url = body["@odata.nextLink"];
      if (url) expect(url).toContain("$skiptoken=");
      pages += 1;
    }
    expect(pages).toBe(3);
    expect(seen.map((r) => r.hlf_mentorid)).toEqual([...ids].sort());
    expect(seen.every((r) => Object.keys(r).join() === "hlf_mentorid,hlf_listing")).toBe(true);
    expect((await sandbox().control.counters()).listingPages).toBe(3);
  });

  it("answers the whole set in one page without Prefer, with every column", async () => {
    const id = crypto.randomUUID();
    await sandbox().control.setListing(id, "unlisted");
    const response = await fetch(listingsUrl(), { headers: await bearer() });
    expect(response.headers.get("Preference-Applied")).toBeNull();
    const body = await response.json();
    expect(body["@odata.nextLink"]).toBeUndefined();
    expect(body.value).toEqual([{
      hlf_mentorid: id,
      hlf_listing: "unlisted",
      hlf_lasteventid: null,
      modifiedon: expect.any(String),
    }]);
  });

  it("rejects a missing credential, an unknown column and a bad skiptoken", async () => {
    expect((await fetch(listingsUrl())).status).toBe(401);
    const auth = await bearer();
    const unknown = await fetch(`${listingsUrl()}?$select=hlf_mentorid,secret`, { headers: auth });
    expect(unknown.status).toBe(400);
    expect((await unknown.json()).error.message).toContain("'secret'");
    expect((await fetch(`${listingsUrl()}?$skiptoken=%25%25`, { headers: auth })).status).toBe(400);
  });
});

describe("signed callbacks to dynamics-webhook", () => {
  const CALLBACK_SECRET = "callback-secret-Jd82";
  let receiver: Server;
  let receiverUrl: string;
  const received: { status: number; body: string; verified: boolean }[] = [];
  let answer = 200;
  let answerAfterMs = 0;

  beforeAll(async () => {
    receiver = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", async () => {
        const body = Buffer.concat(chunks);
        const headers = new Headers(req.headers as Record<string, string>);
        const check = await verifyWebhook(new Uint8Array(body), headers, {
          secrets: [CALLBACK_SECRET],
          nowSeconds: Date.now() / 1000,
          toleranceSeconds: defaults.inbound.toleranceSeconds,
        });
        received.push({ status: answer, body: body.toString(), verified: check.ok });
        setTimeout(() => res.writeHead(answer).end(), answerAfterMs);
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, "127.0.0.1", resolve));
    receiverUrl = `http://127.0.0.1:${
      (receiver.address() as AddressInfo).port
    }/functions/v1/dynamics-webhook`;
  });
  afterAll(() => new Promise<void>((resolve) => receiver.close(() => resolve())));
  afterEach(async () => {
    // A callback a test started and did not wait for must not land in the next test's count.
    await sandbox().idle();
    received.length = 0;
    answer = 200;
    answerAfterMs = 0;
    await sandbox().control.config({ callbackUrl: null, callbackSecret: null });
  });

  it("posts a signed listing.confirmed after applying a change", async () => {
    await sandbox().control.config({ callbackUrl: receiverUrl, callbackSecret: CALLBACK_SECRET });
    const expiry = event();
    await deliver(expiry, await bearer());
    await sandbox().idle();
    expect(received).toHaveLength(1);
    expect(received[0].verified).toBe(true);
    const parsed = parseInboundEvent(received[0].body);
    expect(parsed).toMatchObject({
      ok: true,
      value: {
        eventType: "listing.confirmed",
        mentorId: expiry.mentorId,
        listing: "unlisted",
        inReplyTo: expiry.eventId,
      },
    });
    expect((await sandbox().control.counters()).callbacks).toEqual({
      attempts: 1,
      sent: 1,
      failed: 0,
    });
  });

  it("retries a failing target a bounded number of times, counts the failure, keeps serving", async () => {
    answer = 500;
    await sandbox().control.config({ callbackUrl: receiverUrl, callbackSecret: CALLBACK_SECRET });
    await deliver(event(), await bearer());
    await sandbox().idle();
    expect(received).toHaveLength(3);
    expect((await sandbox().control.counters()).callbacks).toEqual({
      attempts: 3,
      sent: 0,
      failed: 1,
    });
    expect((await deliver(event(), { "x-api-key": TEST_API_KEY })).status).toBe(204);
  });

  it("a mass expiry's callbacks, all in flight at once, raise no listener-leak warning", async () => {
    const warnings: Error[] = [];
    const onWarning = (w: Error) => warnings.push(w);
    process.on("warning", onWarning);
    try {
      answerAfterMs = 300;
      await sandbox().control.config({ callbackUrl: receiverUrl, callbackSecret: CALLBACK_SECRET });
      const auth = await bearer();
      await Promise.all(Array.from({ length: 30 }, () => deliver(event(), auth)));
      await sandbox().idle();
      expect(received).toHaveLength(30);
      // Node warns (on the next tick) when the 11th listener is added, long before this.
      expect(warnings.map((w) => w.name)).toEqual([]);
    } finally {
      process.off("warning", onWarning);
    }
  });
});

describe("app without sockets", () => {
  it("serves the token endpoint and simulates a reset as 502 under app.request()", async () => {
    const { app, state, close } = createSandboxApp({ clientSecret: "s3cret-value" });
    const response = await app.request("/hlf-sandbox/oauth2/v2.0/token", {
      method: "POST",
      body: tokenForm({ client_id: state.config.clientId, client_secret: "s3cret-value" }),
    });
    expect(response.status).toBe(200);
    state.faults.webhook.push({ kind: "reset", count: 1 });
    expect(
      (await app.request("/api/data/v9.2/hlf_certificationwebhooks", { method: "POST" })).status,
    ).toBe(502);
    close();
  });
});

describe("stop()", () => {
  it("closes held requests and stops listening", async () => {
    const own = await startTestSandbox();
    await own.control.faults({ kind: "hang", ms: 600_000 });
    const held = fetch(own.webhookUrl, { method: "POST", body: "{}" }).then(
      (r) => r.status,
      () => "closed",
    );
    // Wait until the sandbox has the request in hand.
    for (let i = 0; i < 100 && own.state.counters.requests === 0; i++) {
      await new Promise((r) => setTimeout(r, 10));
    }
    await own.stop();
    expect(await held).toBe("closed");
    await expect(fetch(`${own.url}/__control/counters`)).rejects.toThrow();
  });
});
