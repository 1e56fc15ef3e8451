import { describe, expect, it } from "vitest";
import {
  deliveryFailure,
  MAX_MESSAGE_CHARS,
  redact,
  REDACTED,
} from "../../shared/dynamics/errors.ts";

describe("deliveryFailure", () => {
  it("omits absent extras", () => {
    expect(deliveryFailure("permanent", "http_400", "bad")).toEqual({
      kind: "permanent",
      code: "http_400",
      message: "bad",
    });
    expect(deliveryFailure("retryable", "http_429", "slow down", { status: 429, retryAfterMs: 0 }))
      .toEqual({
        kind: "retryable",
        code: "http_429",
        message: "slow down",
        status: 429,
        retryAfterMs: 0,
      });
  });
});

describe("redact", () => {
  it("removes every configured secret, longest first", () => {
    const out = redact("key=abcd-1234-extra and abcd-1234", ["abcd-1234", "abcd-1234-extra"]);
    expect(out).toBe(`key=${REDACTED} and ${REDACTED}`);
  });

  it("removes bearer tokens and JWTs it was not told about", () => {
    const jwt = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl";
    const out = redact(`Authorization: Bearer opaque.Token_123== seen ${jwt}`);
    expect(out).not.toContain("opaque.Token_123");
    expect(out).not.toContain(jwt);
    expect(out).toContain(`Bearer ${REDACTED}`);
  });

  it("removes token and secret fields in JSON and form bodies", () => {
    const out = redact(
      '{"access_token":"tok-9f8e7d","x":1} grant_type=client_credentials&client_secret=s3cr3t-v4lue&scope=a',
    );
    expect(out).not.toContain("tok-9f8e7d");
    expect(out).not.toContain("s3cr3t-v4lue");
    expect(out).toContain("grant_type=client_credentials");
  });

  it("truncates after redacting, so a secret on the boundary cannot leak in part", () => {
    const secret = "S".repeat(40);
    const text = "x".repeat(MAX_MESSAGE_CHARS - 10) + secret;
    const out = redact(text, [secret]);
    expect(out).not.toContain("SSSS");
    expect(redact("y".repeat(1000)).length).toBe(MAX_MESSAGE_CHARS + 1);
  });

  it("ignores secrets too short to redact without mangling the text", () => {
    expect(redact("a b c", ["a"])).toBe("a b c");
  });
});
