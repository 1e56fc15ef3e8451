// The pure parts of reconciliation and alerting: the first page's URL, the order check that keeps a
// page from being compared over the wrong id range, where the listings live by default, and the
// text an alert is posted with.
import { describe, expect, it } from "vitest";
import { alertText } from "../../shared/alert-notifier.ts";
import { loadConfig } from "../../shared/config.ts";
import { firstPageUrl, pageOrderProblem } from "../../shared/reconcile.ts";

const A = "10000000-0000-4000-8000-000000000000";
const B = "20000000-0000-4000-8000-000000000000";
const C = "30000000-0000-4000-8000-000000000000";
const row = (id: string) => ({ hlf_mentorid: id, hlf_listing: "listed" as const });

describe("reconciliation helpers", () => {
  it("asks for the compared columns in mentor id order", () => {
    expect(firstPageUrl("https://org.crm4.dynamics.com/api/data/v9.2/hlf_mentorlistings")).toBe(
      "https://org.crm4.dynamics.com/api/data/v9.2/hlf_mentorlistings" +
        "?$select=hlf_mentorid,hlf_listing,hlf_lasteventid&$orderby=hlf_mentorid",
    );
    expect(firstPageUrl("http://x.test/listings?tenant=1")).toBe(
      "http://x.test/listings?tenant=1&$select=hlf_mentorid,hlf_listing,hlf_lasteventid" +
        "&$orderby=hlf_mentorid",
    );
  });

  it("refuses a page out of id order, behind the cursor, or empty with a next link", () => {
    expect(pageOrderProblem({ value: [row(A), row(B)] }, null)).toBeNull();
    expect(pageOrderProblem({ value: [row(B), row(C)] }, A)).toBeNull();
    expect(pageOrderProblem({ value: [row(B), row(A)] }, null)).toMatch(/order/);
    expect(pageOrderProblem({ value: [row(A)] }, B)).toMatch(/order/);
    expect(pageOrderProblem({ value: [row(A), row(A)] }, null)).toMatch(/order/);
    expect(pageOrderProblem({ value: [], "@odata.nextLink": "http://x.test/next" }, A))
      .toMatch(/empty page/);
    expect(pageOrderProblem({ value: [] }, A)).toBeNull();
  });

  it("reads the listings beside the webhook entity set unless told otherwise", () => {
    const webhook = "https://org.crm4.dynamics.com/api/data/v9.2/hlf_certificationwebhooks";
    const env = {
      DYNAMICS_WEBHOOK_URL: webhook,
      DYNAMICS_TOKEN_URL: "https://login.microsoftonline.com/tenant/oauth2/v2.0/token",
      DYNAMICS_CLIENT_ID: "hlf-sync",
      DYNAMICS_CLIENT_SECRET: "a-real-client-secret",
      DYNAMICS_SCOPE: "https://org.crm4.dynamics.com/.default",
      DYNAMICS_SIGNING_SECRET: "a-real-signing-secret",
    };
    const listingsUrl = (extra: Record<string, string> = {}) =>
      loadConfig({ ...env, ...extra }, ["outbound"]).outbound?.listingsUrl;
    expect(listingsUrl()).toBe("https://org.crm4.dynamics.com/api/data/v9.2/hlf_mentorlistings");
    expect(listingsUrl({ DYNAMICS_LISTINGS_URL: "https://x.test/l" })).toBe("https://x.test/l");
    // The same rule as the webhook URL: no loopback or plain http outside a rehearsal.
    expect(() => listingsUrl({ DYNAMICS_LISTINGS_URL: "http://127.0.0.1:1/l" })).toThrow(
      /DYNAMICS_LISTINGS_URL/,
    );
  });
});

describe("alert text", () => {
  it("names the cause, the mentor when there is one, and the summary", () => {
    expect(alertText({ cause: "dead_letter", mentor_id: A, summary: "gave up" })).toBe(
      `[HLF Dynamics Sync] dead_letter (mentor ${A}): gave up`,
    );
    expect(alertText({ cause: "outage", mentor_id: null, summary: "down since 10:00" })).toBe(
      "[HLF Dynamics Sync] outage: down since 10:00",
    );
  });
});
