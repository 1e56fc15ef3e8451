// The sandbox's Dataverse-style throttle through its Hono app, on an injected clock: a sliding window
// (a request frees its place `windowMs` after it was accepted), the two x-ms-ratelimit counts on every
// answer of a throttled endpoint, and a 429 with Retry-After until the oldest request leaves.
import { describe, expect, it } from "vitest";
import {
  createSandboxApp,
  DEFAULT_TENANT,
  LISTINGS_PATH,
  tokenPathFor,
} from "../../local/dynamics-sandbox/app.ts";
import { CONTROL_PREFIX } from "../../local/dynamics-sandbox/control.ts";
import {
  BURST_REMAINING_HEADER,
  TIME_REMAINING_HEADER,
} from "../../shared/dynamics/rate-limit-headers.ts";

async function throttledSandbox(limit: number, windowMs: number, millisecondHint?: boolean) {
  let nowMs = Date.parse("2026-11-23T10:00:00.000Z");
  const sandbox = createSandboxApp({}, { now: () => nowMs });
  const { app } = sandbox;
  const config = sandbox.state.config;
  const tokenResponse = await app.request(tokenPathFor(DEFAULT_TENANT), {
    method: "POST",
    body: new URLSearchParams({
      grant_type: "client_credentials",
      client_id: config.clientId,
      client_secret: config.clientSecret,
      scope: "https://org.crm.dynamics.com/.default",
    }),
  });
  const { access_token: token } = await tokenResponse.json();
  const read = () => app.request(LISTINGS_PATH, { headers: { Authorization: `Bearer ${token}` } });
  return {
    sandbox,
    read,
    advance: (ms: number) => void (nowMs += ms),
    throttle: () =>
      app.request(`${CONTROL_PREFIX}/throttle`, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ limit, windowMs, millisecondHint }),
      }),
  };
}

const counts = (r: Response) => [
  r.status,
  r.headers.get(BURST_REMAINING_HEADER),
  r.headers.get(TIME_REMAINING_HEADER),
];

describe("the sandbox's throttle", () => {
  it("sends no rate-limit headers while no throttle is set", async () => {
    const s = await throttledSandbox(3, 10_000);
    expect(counts(await s.read())).toEqual([200, null, null]);
  });

  it("counts down the window on every answer and answers 429 with Retry-After beyond it", async () => {
    const s = await throttledSandbox(3, 10_000);
    await s.throttle();
    const answers = [];
    for (let i = 0; i < 4; i++) {
      answers.push(await s.read());
      s.advance(1_000);
    }
    // The clock stands still within a request: no execution time is spent (4 x 10 s allowed).
    expect(answers.map(counts)).toEqual([
      [200, "2", "40000.00"],
      [200, "1", "40000.00"],
      [200, "0", "40000.00"],
      [429, "0", "40000.00"],
    ]);
    const refused = answers[3];
    // The first request leaves the window 10 s after it came, 3 s ago.
    // Whole seconds only, as Dataverse answers: no millisecond hint.
    expect(refused.headers.get("retry-after")).toBe("7");
    expect(refused.headers.get("x-ms-retry-after-ms")).toBeNull();
    expect((await refused.json()).error).toEqual({
      code: "0x80072322",
      message: "Number of requests exceeded the limit of 3 over time window of 10 seconds.",
    });
    expect(s.sandbox.state.counters.throttled).toBe(1);
  });

  it("slides: each request frees its place exactly one window after it was accepted", async () => {
    const s = await throttledSandbox(2, 10_000);
    await s.throttle();
    expect((await s.read()).status).toBe(200); // t = 0
    s.advance(4_000);
    expect((await s.read()).status).toBe(200); // t = 4 s
    s.advance(5_999);
    expect(counts(await s.read()).slice(0, 2)).toEqual([429, "0"]); // t = 9.999 s: both inside
    s.advance(1);
    // t = 10 s: the first has left (a fixed window would have freed both), the second has not.
    expect(counts(await s.read()).slice(0, 2)).toEqual([200, "0"]);
    const refused = await s.read();
    expect([refused.status, refused.headers.get("retry-after")]).toEqual([429, "4"]);
  });

  it("says the wait in milliseconds too only when the throttle asks for it (not a Dataverse header)", async () => {
    const s = await throttledSandbox(1, 2_500, true);
    await s.throttle();
    expect((await s.read()).status).toBe(200);
    s.advance(1_000);
    const refused = await s.read();
    expect([
      refused.status,
      refused.headers.get("retry-after"),
      refused.headers.get("x-ms-retry-after-ms"),
    ]).toEqual([429, "2", "1500"]);
  });
});
