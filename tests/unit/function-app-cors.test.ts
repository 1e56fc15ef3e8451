// Every function answers browsers (the Flutter web app, the dashboard) with CORS: a preflight gets
// 204 and the allowed methods and headers without reaching a route; every other answer, whichever
// step produced it (the handler, a refusal thrown by a middleware, an unknown path, a wrong method,
// an unexpected failure), carries `Access-Control-Allow-Origin: *`, and the handler's own headers
// are kept.
import { describe, expect, it } from "vitest";
import { createFunctionApp } from "../../shared/http/function-app.ts";
import { HttpError } from "../../shared/http/http.ts";
import { createLogger } from "../../shared/logger.ts";

function app() {
  const a = createFunctionApp("cors-test", createLogger("silent", () => {}), 1_000);
  a.get("/ok", (c) => c.json({ ok: true }, 200, { "Cache-Control": "no-store" }));
  a.post(
    "/refused",
    () => {
      throw new HttpError(401, "signature_mismatch", "refused before the handler");
    },
    (c) => c.text("unreachable"),
  );
  a.get("/broken", () => {
    throw new Error("unexpected");
  });
  return a;
}

const ORIGIN = { origin: "https://app.example" };

describe("function CORS", () => {
  it("answers a preflight 204 with the allowed methods and headers, reaching no route", async () => {
    const res = await app().request("/cors-test/refused", {
      method: "OPTIONS",
      headers: {
        ...ORIGIN,
        "access-control-request-method": "POST",
        "access-control-request-headers": "authorization, content-type",
      },
    });
    expect(res.status).toBe(204);
    expect(res.headers.get("access-control-allow-origin")).toBe("*");
    expect(res.headers.get("access-control-allow-methods")).toBe("GET,POST,OPTIONS");
    expect(res.headers.get("access-control-allow-headers")).toBe(
      "authorization,x-client-info,apikey,content-type",
    );
    expect(res.headers.get("access-control-max-age")).toBe("600");
  });

  it.each([
    ["GET", "/cors-test/ok", 200],
    ["POST", "/cors-test/refused", 401],
    ["GET", "/cors-test/broken", 500],
    ["GET", "/cors-test/nowhere", 404],
    ["DELETE", "/cors-test/ok", 405],
  ])("%s %s answers %i with Access-Control-Allow-Origin", async (method, path, status) => {
    const res = await app().request(path, { method, headers: ORIGIN });
    expect(res.status).toBe(status);
    expect(res.headers.get("access-control-allow-origin")).toBe("*");
  });

  it("keeps the handler's own headers beside it", async () => {
    const res = await app().request("/cors-test/ok", { headers: ORIGIN });
    expect(res.headers.get("cache-control")).toBe("no-store");
    expect(res.headers.get("content-type")).toMatch(/^application\/json/);
    expect(await res.json()).toEqual({ ok: true });
  });
});
