import { describe, expect, it } from "vitest";
import {
  classifyStatus,
  fetchError,
  httpError,
  RETRYABLE_STATUSES,
  summarizeBody,
} from "../../shared/dynamics/classify.ts";

describe("classifyStatus", () => {
  it.each([200, 201, 202, 204, 299])("%i is delivered", (status) => {
    expect(classifyStatus(status)).toBe("delivered");
  });

  it.each([408, 425, 429, 500, 502, 503, 504])("%i is retryable", (status) => {
    expect(classifyStatus(status)).toBe("retryable");
  });

  it("has exactly the retryable set of the contract", () => {
    expect([...RETRYABLE_STATUSES].sort()).toEqual([408, 425, 429, 500, 502, 503, 504]);
  });

  it("401 is an auth problem", () => {
    expect(classifyStatus(401)).toBe("auth");
  });

  it.each([100, 101, 199, 300, 301, 302, 304, 307, 308])(
    "informational/redirect %i is permanent",
    (s) => {
      expect(classifyStatus(s)).toBe("permanent");
    },
  );

  it.each([400, 402, 403, 404, 405, 409, 410, 413, 415, 422, 426, 451, 499])(
    "client error %i is permanent",
    (status) => {
      expect(classifyStatus(status)).toBe("permanent");
    },
  );

  it.each([501, 505, 507, 511, 599])(
    "server error %i outside the retryable set is permanent",
    (s) => {
      expect(classifyStatus(s)).toBe("permanent");
    },
  );

  it("covers every status from 100 to 599 with one of the four outcomes", () => {
    const seen = new Set<string>();
    for (let status = 100; status < 600; status++) seen.add(classifyStatus(status));
    expect([...seen].sort()).toEqual(["auth", "delivered", "permanent", "retryable"]);
  });
});

describe("httpError", () => {
  it("carries kind, code, status, message and Retry-After", () => {
    expect(httpError(503, "0x80040216 busy", 2000)).toEqual({
      kind: "retryable",
      code: "http_503",
      message: "HTTP 503: 0x80040216 busy",
      status: 503,
      retryAfterMs: 2000,
    });
    expect(httpError(422, "", null)).toEqual({
      kind: "permanent",
      code: "http_422",
      message: "HTTP 422",
      status: 422,
    });
    expect(httpError(401, "", null).kind).toBe("auth");
  });

  it("refuses a 2xx", () => {
    expect(() => httpError(204, "", null)).toThrow(RangeError);
  });
});

describe("fetchError", () => {
  it("reports our own timeout as retryable 'timeout'", () => {
    const error = new DOMException("The operation was aborted due to timeout", "TimeoutError");
    expect(fetchError(error)).toMatchObject({ kind: "retryable", code: "timeout" });
    expect(fetchError(new Error("whatever"), "timeout")).toMatchObject({ code: "timeout" });
  });

  it("reports the caller's abort as retryable 'aborted'", () => {
    const error = new DOMException("This operation was aborted", "AbortError");
    expect(fetchError(error)).toMatchObject({ kind: "retryable", code: "aborted" });
    expect(fetchError(new Error("custom reason"), "aborted")).toMatchObject({ code: "aborted" });
  });

  it("reports socket failures as retryable 'network' with the undici cause", () => {
    const reset = Object.assign(new Error("other side closed"), { code: "UND_ERR_SOCKET" });
    const error = new TypeError("fetch failed", { cause: reset });
    expect(fetchError(error)).toEqual({
      kind: "retryable",
      code: "network",
      message: "network error: fetch failed: UND_ERR_SOCKET: other side closed",
    });
    expect(fetchError("string thrown")).toMatchObject({ code: "network" });
  });
});

describe("summarizeBody", () => {
  it("prefers Dataverse's error code and message", () => {
    const body = JSON.stringify({ error: { code: "0x80072322", message: "Too many requests" } });
    expect(summarizeBody(body)).toBe("0x80072322 Too many requests");
  });

  it("falls back to the text with whitespace collapsed", () => {
    expect(summarizeBody("<html>\n  <b>Bad gateway</b>\n</html>")).toBe(
      "<html> <b>Bad gateway</b> </html>",
    );
    expect(summarizeBody('{"other":1}')).toBe('{"other":1}');
  });
});
