// Every function's requests have a deadline (createFunctionApp): past it the caller hears 503
// `deadline_exceeded` with Retry-After and the app's CORS headers, and one warning is logged; a
// request answered in time, or refused on its own, is untouched.
import { describe, expect, it } from "vitest";
import { loadConfig } from "../../shared/config.ts";
import { createFunctionApp, requestDeadlineMs } from "../../shared/http/function-app.ts";
import { HttpError } from "../../shared/http/http.ts";
import { createLogger } from "../../shared/logger.ts";

function appWithDeadline(deadlineMs: number) {
  const lines: string[] = [];
  const app = createFunctionApp(
    "deadline-test",
    createLogger("info", (l) => lines.push(l)),
    deadlineMs,
  );
  let finishLate: (() => void) | undefined;
  app.get("/never", () => new Promise<Response>(() => {}));
  app.get(
    "/late",
    (c) => new Promise<Response>((resolve) => (finishLate = () => resolve(c.text("late")))),
  );
  app.get("/fast", (c) => c.text("fast"));
  app.get("/refused", () => {
    throw new HttpError(409, "state_conflict", "refused on its own");
  });
  return { app, lines, finishLate: () => finishLate?.() };
}

describe("request deadline", () => {
  it("answers a request that never finishes 503 deadline_exceeded, with Retry-After and CORS", async () => {
    const { app, lines } = appWithDeadline(20);
    const res = await app.request("/deadline-test/never", {
      headers: { origin: "https://app.example" },
    });
    expect(res.status).toBe(503);
    expect(res.headers.get("retry-after")).toBe("5");
    expect(res.headers.get("access-control-allow-origin")).toBe("*");
    expect(await res.json()).toEqual({
      error: { code: "deadline_exceeded", message: "no answer within 20 ms; retry" },
    });
    expect(lines.map((l) => JSON.parse(l))).toEqual([
      expect.objectContaining({
        level: "warn",
        msg: "request deadline exceeded",
        function: "deadline-test",
        deadlineMs: 20,
      }),
    ]);
  });

  it("a handler finishing after its deadline changes nothing of the answer already given", async () => {
    const { app, lines, finishLate } = appWithDeadline(20);
    const res = await app.request("/deadline-test/late");
    expect(res.status).toBe(503);
    finishLate();
    await new Promise((r) => setTimeout(r, 10));
    expect((await res.json()).error.code).toBe("deadline_exceeded");
    expect(lines).toHaveLength(1);
  });

  it("leaves answers given in time alone, refusals included, and logs nothing", async () => {
    const { app, lines } = appWithDeadline(60_000);
    const fast = await app.request("/deadline-test/fast");
    expect(fast.status).toBe(200);
    expect(await fast.text()).toBe("fast");
    const refused = await app.request("/deadline-test/refused");
    expect(refused.status).toBe(409);
    expect((await refused.json()).error.code).toBe("state_conflict");
    expect(lines).toEqual([]);
  });

  it("gives a function its own work budget plus REQUEST_DEADLINE_MS", () => {
    const config = loadConfig({ REQUEST_DEADLINE_MS: "7000", DYNAMICS_BUDGET_MS: "30000" });
    expect(requestDeadlineMs(config)).toBe(7000);
    expect(requestDeadlineMs(config, config.dynamics.budgetMs)).toBe(37_000);
    expect(requestDeadlineMs(loadConfig({}))).toBe(20_000);
  });
});
