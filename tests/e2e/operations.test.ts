// End to end under Deno behind the gateway: sync-reconcile puts back a listing a portal editor
// flipped with the sandbox's control API; sync-health answers operators in JSON and Prometheus
// text; both are service-role only; a pause set in SQL holds what sync-retry would send.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ReconcileRun, SyncHealth } from "../../shared/contract/api.ts";
import { createListedMentor } from "../support/factories.ts";
import { startTestStack, type TestStack } from "../support/stack.ts";

let t: TestStack;

beforeAll(async () => {
  // With a breaker, so sync-health has one to report.
  t = await startTestStack({ env: { DYNAMICS_CIRCUIT_THRESHOLD: "5" } });
});
afterAll(async () => {
  await t?.close();
});

async function call(name: string, init: RequestInit & { jwt?: string | null } = {}) {
  const jwt = init.jwt === undefined ? t.stack.serviceRoleKey : init.jwt;
  const headers = new Headers(init.headers);
  if (jwt) headers.set("Authorization", `Bearer ${jwt}`);
  return await fetch(`${t.stack.functionsUrl}/${name}`, { ...init, headers });
}

async function sweep(): Promise<Record<string, number>> {
  const { data, error } = await t.client().functions.invoke("sync-retry", { body: {} });
  if (error) throw error;
  return data;
}

describe("sync-reconcile and sync-health", () => {
  it("a listing flipped with the control API is back to the truth after the next run", async () => {
    const { mentorId, certificationId } = await createListedMentor(t.db.sql);
    await t.db
      .sql`update public.certifications set status = 'expired' where id = ${certificationId}`;
    await sweep();
    expect((await t.sandbox.listing(mentorId))?.listing).toBe("unlisted");

    await t.sandbox.setListing(mentorId, "listed");
    const { data, error } = await t.client().functions.invoke("sync-reconcile", { body: {} });
    expect(error).toBeNull();
    expect(data).toMatchObject({ status: "done", checked: 1, drift: 1, enqueued: 1, requests: 1 });
    expect(ReconcileRun.strict().safeParse(data).error).toBeUndefined();
    expect(await sweep()).toMatchObject({ delivered: 1 });
    expect((await t.sandbox.listing(mentorId))?.listing).toBe("unlisted");

    const again = await t.client().functions.invoke("sync-reconcile", { body: {} });
    expect(again.data).toMatchObject({ status: "done", drift: 0, enqueued: 0 });
  });

  it("sync-health answers JSON, and Prometheus text when asked for text/plain", async () => {
    const json = await call("sync-health");
    expect(json.status).toBe(200);
    const health = await json.json();
    expect(health).toMatchObject({
      backlog: { pending: expect.any(Number), failed: expect.any(Number) },
      breaker: "closed",
      pause: { paused: false },
      lastReconciliation: { status: "done", drift: 0 },
    });
    // What the contract publishes (contracts/openapi.json), field for field.
    expect(SyncHealth.strict().safeParse(health).error).toBeUndefined();
    const text = await call("sync-health", { headers: { Accept: "text/plain" } });
    expect(text.headers.get("content-type")).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(await text.text()).toMatch(/^hlf_sync_reconcile_last_drift 0$/m);
  });

  it.each(["sync-health", "sync-reconcile"])("%s is for the service role only", async (name) => {
    const method = name === "sync-health" ? "GET" : "POST";
    const body = method === "POST" ? "{}" : undefined;
    expect((await call(name, { method, body, jwt: null })).status).toBe(401);
    const user = await t.userJwt(crypto.randomUUID());
    const forbidden = await call(name, { method, body, jwt: user });
    expect(forbidden.status).toBe(403);
  });

  it("rejects a body sync-reconcile does not know", async () => {
    const response = await call("sync-reconcile", { method: "POST", body: '{"force":true}' });
    expect(response.status).toBe(400);
  });

  it("a pause set in SQL holds what sync-retry would send; resume replays it", async () => {
    await t.db.sql`select public.pause_sync('e2e', 'ops@hlf.example')`;
    const before = (await t.sandbox.counters()).requests;
    const { mentorId } = await createListedMentor(t.db.sql);
    expect(await sweep()).toMatchObject({ held: 1, delivered: 0 });
    expect((await t.sandbox.counters()).requests).toBe(before);
    const health = await (await call("sync-health")).json();
    expect(health.pause).toMatchObject({ paused: true, pausedBy: "ops@hlf.example" });

    await t.db.sql`select public.resume_sync('ops@hlf.example')`;
    expect(await sweep()).toMatchObject({ released: 1, delivered: 1 });
    expect((await t.sandbox.listing(mentorId))?.listing).toBe("listed");
  });
});
