// A deployed function with a forgotten or unsafe setting: every request 503 `misconfigured` naming
// the variable, one log line, and nothing else happens (no database connection: the URL points at a
// port nothing listens on, and the answer is immediate).
import { describe, expect, it } from "vitest";
import * as dynamicsWebhook from "../../functions/dynamics-webhook/app.ts";
import * as syncStatus from "../../functions/sync-status/app.ts";
import * as syncRetry from "../../functions/sync-retry/app.ts";
import { bootFunction, type FunctionDefinition } from "../../shared/serve.ts";
import { WELL_KNOWN_LOCAL_SECRETS } from "../../shared/well-known-secrets.ts";
import { signedHeaders } from "../support/inbound-delivery.ts";
import { listingConfirmed } from "../support/payload-factory.ts";

const DB_ONLY = { SUPABASE_DB_URL: "postgres://postgres@127.0.0.1:9/postgres" };

function boot(fn: FunctionDefinition, env: Record<string, string>) {
  const lines: string[] = [];
  const handler = bootFunction(fn, env, (line) => lines.push(line));
  return { handler, lines };
}

const webhook = { name: "dynamics-webhook", ...dynamicsWebhook };

describe("bootFunction", () => {
  it("dynamics-webhook with only SUPABASE_DB_URL: every request is 503, even one signed with the published local secret", async () => {
    const { handler, lines } = boot(webhook, DB_ONLY);
    const body = JSON.stringify(listingConfirmed());
    const forged = await signedHeaders(body, {
      secret: WELL_KNOWN_LOCAL_SECRETS.DYNAMICS_INBOUND_SECRET,
    });
    const requests = [
      new Request("http://f/dynamics-webhook", { method: "POST", body, headers: forged }),
      new Request("http://f/dynamics-webhook", { method: "GET" }),
      new Request("http://f/dynamics-webhook", { method: "OPTIONS" }),
    ];
    for (const req of requests) {
      const res = await handler(req);
      expect(res.status).toBe(503);
      expect(await res.json()).toEqual({
        error: {
          code: "misconfigured",
          message: expect.stringContaining("DYNAMICS_INBOUND_SECRETS"),
          variable: "DYNAMICS_INBOUND_SECRETS",
        },
      });
    }
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0])).toMatchObject({
      level: "error",
      msg: "function misconfigured",
      function: "dynamics-webhook",
      variable: "DYNAMICS_INBOUND_SECRETS",
    });
  });

  it("refuses the published local inbound secret outside the local stack, without echoing it", async () => {
    const secret = WELL_KNOWN_LOCAL_SECRETS.DYNAMICS_INBOUND_SECRET;
    const { handler, lines } = boot(webhook, { ...DB_ONLY, DYNAMICS_INBOUND_SECRETS: secret });
    const res = await handler(new Request("http://f/dynamics-webhook", { method: "POST" }));
    expect(res.status).toBe(503);
    const text = await res.text();
    expect(JSON.parse(text).error.variable).toBe("DYNAMICS_INBOUND_SECRETS");
    expect(text + lines.join()).not.toContain(secret);
  });

  it("sync-status needs no Dynamics settings; sync-retry does", async () => {
    const env = { ...DB_ONLY, SUPABASE_URL: "https://abcd.supabase.co" };
    const status = boot({ name: "sync-status", ...syncStatus }, env);
    // Served: a request without credentials gets the function's own 401, not 503.
    const answer = await status.handler(new Request("http://f/sync-status?mentorId=x"));
    expect(answer.status).toBe(401);
    expect(status.lines).toEqual([]);
    const retry = boot({ name: "sync-retry", ...syncRetry }, env);
    const refused = await retry.handler(new Request("http://f/sync-retry", { method: "POST" }));
    expect(refused.status).toBe(503);
    expect((await refused.json()).error.variable).toBe("DYNAMICS_WEBHOOK_URL");
  });

  it("logs one warning when an insecure Dynamics URL is permitted for a rehearsal", () => {
    const { lines } = boot({ name: "sync-retry", ...syncRetry }, {
      ...DB_ONLY,
      SUPABASE_URL: "https://abcd.supabase.co",
      DYNAMICS_ALLOW_INSECURE_URL: "true",
      DYNAMICS_WEBHOOK_URL: "http://127.0.0.1:54329/hooks",
      DYNAMICS_TOKEN_URL: "https://login.example.com/t/oauth2/v2.0/token",
      DYNAMICS_CLIENT_ID: "c",
      DYNAMICS_CLIENT_SECRET: "real-client-secret",
      DYNAMICS_SCOPE: "https://hlf.example.com/.default",
      DYNAMICS_SIGNING_SECRET: "real-signing-secret",
    });
    expect(lines.map((l) => JSON.parse(l))).toEqual([
      expect.objectContaining({
        level: "warn",
        warning: expect.stringContaining("DYNAMICS_WEBHOOK_URL"),
      }),
    ]);
  });
});
