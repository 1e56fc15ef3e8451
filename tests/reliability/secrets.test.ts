// No secret or token anywhere it could be read back (issue 8, item 6). Every secret is set to a
// recognisable marker, the sandbox's issued access tokens are collected as they are issued, and the
// scenarios that tempt a leak are run: success, Dynamics echoing our request headers in its errors,
// the token endpoint down and echoing the form (client secret included), a revoked token, bad inbound
// signatures, refused JWTs. Then no marker (raw or encoded) may appear in the gateway's log lines, the
// error bodies we received, or any audit/status/ledger row. Once with oauth2, once with an API key.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createListedMentor } from "../support/factories.ts";
import { forgeJwt } from "../support/forged-jwt.ts";
import { signedDelivery } from "../support/inbound-delivery.ts";
import { listingChanged } from "../support/payload-factory.ts";
import { eventually, startTestStack, type TestStack } from "../support/stack.ts";

const MARK = "Q7pX2";
const SECRETS = {
  JWT_SECRET: `MK-jwt-secret-${MARK}-long-enough-for-hs256-signing`,
  // Entra client secrets carry `~` and `.`; `+`, `/`, `=` change under form and URL encoding.
  DYNAMICS_CLIENT_SECRET: `MK-client+secret/${MARK}~x.y=`,
  DYNAMICS_SIGNING_SECRET: `MK-signing-${MARK}`,
  DYNAMICS_INBOUND_SECRETS: `MK-inbound-one-${MARK},MK-inbound-two-${MARK}`,
};
const API_KEY = `MK-api-key-${MARK}`;
const [INBOUND_ONE, INBOUND_TWO] = SECRETS.DYNAMICS_INBOUND_SECRETS.split(",");

/** The forms a secret could take on its way out: raw, URL/form-encoded, JSON-escaped, base64. */
function encodings(secret: string): string[] {
  return [
    ...new Set([
      secret,
      encodeURIComponent(secret),
      new URLSearchParams({ s: secret }).toString().slice(2),
      JSON.stringify(secret).slice(1, -1),
      btoa(secret),
    ]),
  ];
}

interface Run {
  mode: "oauth2" | "apikey";
  /** How Dynamics' echo of our credential header looks once redacted (row_to_json-escaped). */
  echoRedacted: string;
  env: Record<string, string>;
  secrets: Record<string, string>;
}

const RUNS: Run[] = [
  {
    mode: "oauth2",
    echoRedacted: String.raw`[\"authorization\",\"Bearer [redacted]\"]`,
    env: { ...SECRETS, DYNAMICS_AUTH_MODE: "oauth2" },
    secrets: { ...SECRETS, INBOUND_ONE, INBOUND_TWO },
  },
  {
    mode: "apikey",
    echoRedacted: String.raw`[\"api-key\",\"[redacted]\"]`,
    // A header name that sorts early, so the echo (sorted, cut at 300 characters) still quotes it.
    env: {
      ...SECRETS,
      DYNAMICS_AUTH_MODE: "apikey",
      DYNAMICS_API_KEY: API_KEY,
      DYNAMICS_API_KEY_HEADER: "api-key",
    },
    secrets: { ...SECRETS, INBOUND_ONE, INBOUND_TWO, DYNAMICS_API_KEY: API_KEY },
  },
];

describe.each(RUNS)("secrets stay secret ($mode)", (run) => {
  let t: TestStack;
  /** Error bodies and other answers we received, all of which a caller could read. */
  const received: string[] = [];
  /** Access tokens the sandbox issued (collected before any reset forgets them). */
  const issued = new Set<string>();
  const collectTokens = () => {
    for (const token of t.stack.sandbox!.state.tokens.keys()) issued.add(token);
  };

  beforeAll(async () => {
    t = await startTestStack({ env: { ...run.env, SYNC_MAX_ROUNDS: "2" } });
  });
  afterAll(async () => {
    await t?.close();
  });

  async function invoke(path: string, body: unknown, token = t.stack.serviceRoleKey) {
    const res = await fetch(`${t.stack.functionsUrl}/${path}`, {
      method: "POST",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      body: JSON.stringify(body),
    });
    const text = await res.text();
    received.push(text);
    return { status: res.status, text };
  }
  const sweep = () => invoke("sync-retry", {});
  const expire = (certificationId: string) =>
    t.db.sql`update public.certifications set status = 'expired' where id = ${certificationId}`;
  const lastEvent = async (mentorId: string) => {
    const [row] = await t.db.sql<{ state: string; last_error: string | null }[]>`
      select state, last_error from public.sync_events where mentor_id = ${mentorId}
      order by id desc limit 1`;
    return row;
  };

  /** A listed mentor whose initial listing has been delivered, then expired (an event due now). */
  async function expiredMentor() {
    const { mentorId, certificationId } = await createListedMentor(t.db.sql);
    await sweep();
    await expire(certificationId);
    return mentorId;
  }

  it("the sandbox really echoes credentials when asked (so the checks below mean something)", async () => {
    const sandbox = t.stack.sandbox!;
    await t.sandbox.faults({ kind: "status", status: 503, echoHeaders: true });
    const webhook = await fetch(sandbox.webhookUrl, {
      method: "POST",
      headers: { authorization: `Bearer probe-${MARK}` },
      body: "{}",
    });
    expect(await webhook.text()).toContain(`probe-${MARK}`);
    await t.sandbox.faults({ kind: "token_down", echoRequest: true });
    const token = await fetch(sandbox.tokenUrl, {
      method: "POST",
      body: new URLSearchParams({ client_secret: `probe-${MARK}` }),
    });
    expect(await token.text()).toContain(`probe-${MARK}`);
    await t.sandbox.reset();
  });

  // Each scenario runs once, whichever asks first: its own test, or the final check, which needs
  // them all (so that check does not depend on the order tests run in, or on a name filter).
  const once = (fn: () => Promise<void>) => {
    let ran: Promise<void> | undefined;
    return () => (ran ??= fn());
  };

  const success = once(async () => {
    const mentorId = await expiredMentor();
    await sweep();
    expect(await lastEvent(mentorId)).toMatchObject({ state: "delivered" });
    // The sandbox confirms each applied change with a webhook signed with our first inbound secret.
    await eventually(async () => {
      const [row] = await t.db.sql`
        select count(*)::int as n from public.cert_notification_log where mentor_id = ${mentorId}`;
      return row.n >= 2 ? true : undefined;
    });
    collectTokens();
  });
  it("success, with Dynamics' signed confirmations coming back in", success);

  const echoedHeaders = once(async () => {
    const retried = await expiredMentor();
    await t.sandbox.faults({ kind: "status", status: 503, count: 2, echoHeaders: true });
    await sweep();
    expect(await lastEvent(retried)).toMatchObject({ state: "delivered" });

    const refused = await expiredMentor();
    await t.sandbox.faults({ kind: "status", status: 400, count: 1, echoHeaders: true });
    await sweep();
    const failed = await lastEvent(refused);
    expect(failed.state).toBe("failed");
    expect(failed.last_error).toMatch(/http_400/);
    collectTokens();
    await t.sandbox.reset();
  });
  it("Dynamics echoes our request headers in 503s, then in a permanent 400", echoedHeaders);

  const tokenTrouble = once(async () => {
    const revoked = await expiredMentor();
    await t.sandbox.faults({ kind: "reject_token", count: 1 });
    await sweep();
    expect(await lastEvent(revoked)).toMatchObject({ state: "delivered" });
    collectTokens();

    const stranded = await expiredMentor();
    collectTokens();
    await t.sandbox.expireTokens();
    await t.sandbox.faults({ kind: "token_down", count: 1000, echoRequest: true });
    await sweep();
    const event = await lastEvent(stranded);
    expect(event.state).not.toBe("delivered");
    expect(event.last_error).not.toBeNull();
    expect((await t.sandbox.counters()).faultsServed.token_down).toBeGreaterThan(0);
    await t.sandbox.reset();
  });
  it.runIf(run.mode === "oauth2")(
    "a revoked token, then the token endpoint down and echoing the form",
    tokenTrouble,
  );

  const inbound = once(async () => {
    const { mentorId } = await createListedMentor(t.db.sql);
    const url = `${t.stack.functionsUrl}/dynamics-webhook`;
    const post = async (init: RequestInit) => {
      const res = await fetch(url, init);
      received.push(await res.text());
      return res.status;
    };
    const event = listingChanged({ mentorId, listing: "unlisted" });
    const wrong = await signedDelivery(event, { secret: `MK-not-ours-${MARK}` });
    expect(await post(wrong)).toBe(401);
    const stale = await signedDelivery(event, {
      secret: INBOUND_ONE,
      timestampSeconds: Date.now() / 1000 - 3600,
    });
    expect(await post(stale)).toBe(401);
    const hlf = await signedDelivery(event, { secret: INBOUND_ONE, scheme: "hlf" });
    expect(await post({ ...hlf, body: `${hlf.body} ` })).toBe(401);
    expect(await post(await signedDelivery(event, { secret: INBOUND_TWO }))).toBe(200);
  });
  it("inbound deliveries: bad signatures refused, rotated secret accepted", inbound);

  const refusedCallers = once(async () => {
    // Signed with this stack's legacy secret, the marker.
    const userJwt = await t.legacyJwt({ role: "authenticated", sub: crypto.randomUUID() });
    const forged = await forgeJwt("wrong_secret", {
      secret: SECRETS.JWT_SECRET,
      userJwt,
      otherUserId: crypto.randomUUID(),
    });
    expect((await invoke("sync-status", { list: true }, forged)).status).toBe(401);
    expect((await invoke("sync-retry", {}, userJwt)).status).toBe(403);
    expect((await invoke("sync-status", { mentorId: "not-a-uuid" }, userJwt)).status).toBe(400);
  });
  it("refused callers get errors that name no credential", refusedCallers);

  it("no marker in log lines, error bodies, audit rows, sync state or the inbound ledger", async () => {
    const scenarios = [success, echoedHeaders, inbound, refusedCallers];
    if (run.mode === "oauth2") scenarios.push(tokenTrouble);
    for (const scenario of scenarios) await scenario();
    collectTokens();
    if (run.mode === "oauth2") expect(issued.size).toBeGreaterThan(0);
    else expect(issued.size).toBe(0);
    const sql = t.db.sql;
    const dump = async (table: string) =>
      (await sql<{ row: string }[]>`select row_to_json(x)::text as row from ${sql(table)} x`)
        .map((r) => r.row);
    const places: Record<string, string[]> = {
      "gateway log lines": t.lines,
      "answers received": received,
      dynamics_sync_attempts: await dump("public.dynamics_sync_attempts"),
      sync_events: await dump("public.sync_events"),
      mentor_sync_status: await dump("public.mentor_sync_status"),
      cert_notification_log: await dump("public.cert_notification_log"),
      sync_issues: await dump("public.sync_issues"),
    };
    // The scenarios really produced the records searched: errors audited, deliveries logged.
    expect(places.dynamics_sync_attempts.filter((r) => r.includes('"error_code":"http_')))
      .not.toEqual([]);
    // ...including Dynamics' echo of our credentials, which reached the audit log redacted.
    expect(places.dynamics_sync_attempts.filter((r) => r.includes(run.echoRedacted))).not.toEqual(
      [],
    );
    if (run.mode === "oauth2") {
      expect(places.sync_events.filter((r) => r.includes("client_secret=[redacted]")))
        .not.toEqual([]);
    }
    expect(places["gateway log lines"].length).toBeGreaterThan(10);
    expect(places.cert_notification_log.length).toBeGreaterThan(2);

    const needles = [
      ...Object.entries(run.secrets).flatMap(([name, secret]) =>
        encodings(secret).map((form) => ({ name, form }))
      ),
      ...[...issued].map((token, i) => ({ name: `sandbox access token ${i}`, form: token })),
      { name: "service role key", form: t.stack.serviceRoleKey },
      { name: "anon key", form: t.stack.anonKey },
    ];
    const leaks = Object.entries(places).flatMap(([place, texts]) =>
      needles.filter(({ form }) => texts.some((text) => text.includes(form)))
        .map(({ name, form }) => `${name} (${form}) in ${place}`)
    );
    expect(leaks).toEqual([]);
    console.info(
      `secrets (${run.mode}): ${needles.length} needles, ${issued.size} tokens issued, ` +
        Object.entries(places).map(([p, texts]) => `${p}: ${texts.length}`).join(", "),
    );
  });
});
