import { createHmac } from "node:crypto";
import fc from "fast-check";
import { describe, expect, it, vi } from "vitest";
import {
  createOutboundSigner,
  createWebhookVerifier,
  HLF_SIGNATURE_HEADER,
  outboundHeaders,
  SecretFormatError,
  sign,
  signatureHeaders,
  type SignInput,
  type VerifyOptions,
  verifyWebhook,
} from "../../shared/contract/signer.ts";
import golden from "../fixtures/golden-vectors.json" with { type: "json" };
import { FIXED_EVENT_ID, payload, SIGNED_OUTBOUND_HEADERS } from "../support/payload-factory.ts";
import { toJson } from "../../shared/contract/payload.ts";
import { defaults } from "../support/config-defaults.ts";

const { toleranceSeconds } = defaults.inbound;

const SECRET = "whsec_" + btoa("0123456789abcdef0123456789abcdef");
const OLD_SECRET = "old-plain-secret";
const NOW = 1_795_341_600;
const BODY = toJson(payload());
const encoder = new TextEncoder();

function signInput(overrides: Partial<SignInput> = {}): SignInput {
  return { id: FIXED_EVENT_ID, body: BODY, secret: SECRET, timestampSeconds: NOW, ...overrides };
}

function options(overrides: Partial<VerifyOptions> = {}): VerifyOptions {
  return { secrets: [SECRET], nowSeconds: NOW, toleranceSeconds, ...overrides };
}

async function hlfHeaders(input: Partial<SignInput> = {}): Promise<Headers> {
  const all = await signatureHeaders(signInput(input));
  return new Headers({ "X-HLF-Signature": all["X-HLF-Signature"] });
}

async function standardHeaders(input: Partial<SignInput> = {}): Promise<Headers> {
  const { "X-HLF-Signature": _hlf, ...standard } = await signatureHeaders(signInput(input));
  return new Headers(standard);
}

interface Tampered {
  headers: Headers;
  body?: string;
}

function verify(body: string, headers: Headers, opts: Partial<VerifyOptions> = {}) {
  return verifyWebhook(encoder.encode(body), headers, options(opts));
}

describe("golden vectors", () => {
  it.each(golden.vectors)("$name: exact outbound headers", async (vector) => {
    const input = {
      id: vector.id,
      body: vector.body,
      secret: vector.secret,
      timestampSeconds: vector.timestampSeconds,
    };
    expect(await outboundHeaders(input)).toEqual(vector.headers);
    expect(await sign(encoder.encode(vector.body), vector.secret)).toBe(
      vector.headers["X-HLF-Signature"].slice("sha256=".length),
    );
  });

  it.each(golden.vectors)("$name: verifies under both schemes", async (vector) => {
    const { "X-HLF-Signature": hlf, ...rest } = vector.headers;
    const opts = {
      secrets: [vector.secret],
      nowSeconds: vector.timestampSeconds,
      toleranceSeconds,
    };
    const body = encoder.encode(vector.body);
    expect(await verifyWebhook(body, new Headers(rest), opts)).toEqual({
      ok: true,
      scheme: "standard-webhooks",
    });
    expect(await verifyWebhook(body, new Headers({ "X-HLF-Signature": hlf }), opts)).toEqual({
      ok: true,
      scheme: "hlf",
    });
  });
});

describe("sign", () => {
  it("is HMAC-SHA256 in lowercase hex; key = UTF-8 bytes, or base64 after whsec_", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.string({ unit: "grapheme", maxLength: 200 }),
        fc.string({ minLength: 1, maxLength: 40 }).filter((s) => !s.startsWith("whsec_")),
        fc.uint8Array({ minLength: 1, maxLength: 64 }),
        async (body, plain, keyBytes) => {
          const viaPlain = createHmac("sha256", Buffer.from(plain, "utf8")).update(body, "utf8");
          expect(await sign(body, plain)).toBe(viaPlain.digest("hex"));
          const whsec = "whsec_" + Buffer.from(keyBytes).toString("base64");
          const viaWhsec = createHmac("sha256", keyBytes).update(body, "utf8");
          expect(await sign(encoder.encode(body), whsec)).toBe(viaWhsec.digest("hex"));
        },
      ),
      { numRuns: 100 },
    );
  });

  it("rejects unusable secrets with a permanent error that does not echo them", async () => {
    for (const secret of ["", "whsec_", "whsec_not*base64!", "whsec_abc"]) {
      const error = await sign(BODY, secret).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(SecretFormatError);
      expect((error as SecretFormatError).kind).toBe("permanent");
      if (secret.length > "whsec_".length) {
        expect((error as Error).message).not.toContain(secret.slice(6));
      }
    }
  });

  it("puts every header on an outbound request", async () => {
    const headers = await outboundHeaders(signInput({ timestampSeconds: NOW + 0.9 }));
    expect(Object.keys(headers).sort()).toEqual(SIGNED_OUTBOUND_HEADERS);
    expect(headers["Idempotency-Key"]).toBe(FIXED_EVENT_ID);
    expect(headers["webhook-timestamp"]).toBe(String(NOW));
    expect(headers["X-HLF-Signature"]).toMatch(/^sha256=[0-9a-f]{64}$/);
    expect(headers["webhook-signature"]).toMatch(/^v1,[A-Za-z0-9+/]{43}=$/);
  });
});

describe("verifyWebhook, X-HLF-Signature scheme", () => {
  it("accepts a good signature, in either hex case", async () => {
    const headers = await hlfHeaders();
    expect(await verify(BODY, headers)).toEqual({ ok: true, scheme: "hlf" });
    const upper = new Headers({
      "X-HLF-Signature": `sha256=${(await sign(BODY, SECRET)).toUpperCase()}`,
    });
    expect(await verify(BODY, upper)).toEqual({ ok: true, scheme: "hlf" });
  });

  it("accepts a rotated secret anywhere in the list", async () => {
    const headers = await hlfHeaders({ secret: OLD_SECRET });
    expect(await verify(BODY, headers, { secrets: [SECRET, OLD_SECRET] })).toEqual({
      ok: true,
      scheme: "hlf",
    });
  });

  it("rejects without a signature header", async () => {
    expect(await verify(BODY, new Headers({ "Content-Type": "application/json" }))).toEqual({
      ok: false,
      reason: "missing_signature",
    });
  });

  it("never verifies with an empty secret list", async () => {
    expect(await verify(BODY, await hlfHeaders(), { secrets: [] })).toEqual({
      ok: false,
      reason: "signature_mismatch",
    });
  });

  it.each([
    ["wrong secret", async () => ({ headers: await hlfHeaders({ secret: "someone-else" }) })],
    ["tampered body", async () => ({
      headers: await hlfHeaders(),
      body: BODY.replace('"remove"', '"reinstate"'),
    })],
    ["one flipped hex digit", async () => {
      const headers = await hlfHeaders();
      const value = headers.get("X-HLF-Signature")!;
      const last = value.at(-1) === "0" ? "1" : "0";
      headers.set("X-HLF-Signature", value.slice(0, -1) + last);
      return { headers };
    }],
  ])("rejects a %s as signature_mismatch", async (_name, make: () => Promise<Tampered>) => {
    const { headers, body = BODY } = await make();
    expect(await verify(body, headers)).toEqual({ ok: false, reason: "signature_mismatch" });
  });

  it.each([
    ["too short", (hex: string) => `sha256=${hex.slice(1)}`],
    ["too long", (hex: string) => `sha256=${hex}00`],
    ["non-hex", (hex: string) => `sha256=${hex.slice(0, -1)}g`],
    ["no sha256= prefix", (hex: string) => hex],
    ["another algorithm", (hex: string) => `sha1=${hex}`],
  ])("rejects a %s signature as malformed", async (_name, mangle) => {
    const hex = await sign(BODY, SECRET);
    const headers = new Headers({ "X-HLF-Signature": mangle(hex) });
    expect(await verify(BODY, headers)).toEqual({ ok: false, reason: "malformed_signature" });
  });
});

describe("verifyWebhook, Standard Webhooks scheme", () => {
  it("is chosen by what verifies: Standard Webhooks first, then X-HLF-Signature", async () => {
    const headers = new Headers(await outboundHeaders(signInput()));
    expect(await verify(BODY, headers)).toEqual({ ok: true, scheme: "standard-webhooks" });
    headers.set("webhook-id", "another-id");
    expect(await verify(BODY, headers)).toEqual({ ok: true, scheme: "hlf" });
    headers.set("X-HLF-Signature", `sha256=${"0".repeat(64)}`);
    expect(await verify(BODY, headers)).toEqual({ ok: false, reason: "signature_mismatch" });
  });

  it("an authentic but stale Standard Webhooks signature is final, whatever else is sent", async () => {
    const headers = new Headers(await outboundHeaders(signInput()));
    expect(await verify(BODY, headers, { nowSeconds: NOW + 3600 })).toEqual({
      ok: false,
      reason: "timestamp_out_of_tolerance",
    });
  });

  it("a stray webhook-* header does not fail a valid X-HLF-Signature", async () => {
    const headers = await hlfHeaders();
    headers.set("webhook-timestamp", "1");
    expect(await verify(BODY, headers)).toEqual({ ok: true, scheme: "hlf" });
    headers.set("X-HLF-Signature", `sha256=${"0".repeat(64)}`);
    // Nothing verifies: the Standard Webhooks reason is the one reported.
    expect(await verify(BODY, headers)).toEqual({ ok: false, reason: "missing_signature" });
  });

  it("accepts Svix's header names (svix-id, svix-timestamp, svix-signature)", async () => {
    const svix = new Headers();
    for (const [name, value] of await standardHeaders()) {
      svix.set(name.replace(/^webhook-/, "svix-"), value);
    }
    expect([...svix.keys()].sort()).toEqual(["svix-id", "svix-signature", "svix-timestamp"]);
    expect(await verify(BODY, svix)).toEqual({ ok: true, scheme: "standard-webhooks" });
    expect(await verify(BODY + " ", svix)).toEqual({ ok: false, reason: "signature_mismatch" });
    expect(await verify(BODY, svix, { nowSeconds: NOW + 301 })).toEqual({
      ok: false,
      reason: "timestamp_out_of_tolerance",
    });
  });

  it("accepts any matching entry of a space-separated signature list", async () => {
    const headers = await standardHeaders({ secret: OLD_SECRET });
    const good = headers.get("webhook-signature")!;
    const other = (await standardHeaders({ secret: "unrelated" })).get("webhook-signature")!;
    headers.set("webhook-signature", `v1a,ignored ${other}  ${good}`);
    expect(await verify(BODY, headers, { secrets: [SECRET, OLD_SECRET] })).toEqual({
      ok: true,
      scheme: "standard-webhooks",
    });
  });

  it.each([
    ["at the past edge", NOW + 300, toleranceSeconds, true],
    ["at the future edge", NOW - 300, toleranceSeconds, true],
    ["stale", NOW + 301, toleranceSeconds, false],
    ["from the future", NOW - 301, toleranceSeconds, false],
    ["stale for a tighter tolerance", NOW + 31, 30, false],
    ["fresh for a wider tolerance", NOW + 3000, 3600, true],
  ])("timestamp %s", async (_name, nowSeconds, toleranceSeconds, ok) => {
    const result = await verify(BODY, await standardHeaders(), { nowSeconds, toleranceSeconds });
    expect(result).toEqual(
      ok
        ? { ok: true, scheme: "standard-webhooks" }
        : { ok: false, reason: "timestamp_out_of_tolerance" },
    );
  });

  it.each([
    ["wrong secret", { secret: "someone-else" }, BODY],
    ["tampered body", {}, BODY + " "],
  ])("rejects a %s as signature_mismatch", async (_name, input, body) => {
    expect(await verify(body, await standardHeaders(input))).toEqual({
      ok: false,
      reason: "signature_mismatch",
    });
  });

  it.each([
    ["webhook-signature", "missing_signature"],
    ["webhook-id", "malformed_signature"],
    ["webhook-timestamp", "malformed_signature"],
  ])("rejects when %s is missing (%s)", async (name, reason) => {
    const headers = await standardHeaders();
    headers.delete(name);
    expect(await verify(BODY, headers)).toEqual({ ok: false, reason });
  });

  it.each([
    ["webhook-timestamp", "soon"],
    ["webhook-timestamp", "-1795341600"],
    ["webhook-signature", "v2,abc"],
    ["webhook-signature", "v1,not base64!"],
    ["webhook-signature", "v1,AAAA"],
  ])("rejects %s = %s as malformed", async (name, value) => {
    const headers = await standardHeaders();
    headers.set(name, value);
    expect(await verify(BODY, headers)).toEqual({ ok: false, reason: "malformed_signature" });
  });
});

describe("createWebhookVerifier", () => {
  it("verifies either scheme with any of its secrets and reads the clock at each call", async () => {
    let nowMs = NOW * 1000;
    const verifier = createWebhookVerifier({
      secrets: [OLD_SECRET, SECRET],
      toleranceSeconds,
      now: () => nowMs,
    });
    const bytes = encoder.encode(BODY);
    const standard = await standardHeaders();
    expect(await verifier(bytes, standard)).toEqual({ ok: true, scheme: "standard-webhooks" });
    expect(await verifier(bytes, await hlfHeaders({ secret: OLD_SECRET }))).toEqual({
      ok: true,
      scheme: "hlf",
    });
    expect(await verifier(encoder.encode(BODY + " "), await hlfHeaders())).toEqual({
      ok: false,
      reason: "signature_mismatch",
    });
    nowMs += (toleranceSeconds + 1) * 1000;
    expect(await verifier(bytes, standard)).toEqual({
      ok: false,
      reason: "timestamp_out_of_tolerance",
    });
  });

  // Issue 14, target 4: importing an HMAC key per secret per request was a measured cost.
  it("imports each secret's key once for the process, however many requests it verifies", async () => {
    const bytes = encoder.encode(BODY);
    const requests = [await standardHeaders(), await hlfHeaders({ secret: OLD_SECRET })];
    const importKey = vi.spyOn(crypto.subtle, "importKey");
    try {
      const verifier = createWebhookVerifier({
        secrets: [OLD_SECRET, SECRET],
        toleranceSeconds,
        now: () => NOW * 1000,
      });
      for (let i = 0; i < 5; i++) {
        for (const headers of requests) expect((await verifier(bytes, headers)).ok).toBe(true);
      }
      expect(importKey).toHaveBeenCalledTimes(2);
      // The per-call form imports at every call: what the verifier saves (and proof the spy sees it).
      await verify(BODY, requests[0], { secrets: [OLD_SECRET, SECRET] });
      expect(importKey).toHaveBeenCalledTimes(4);
    } finally {
      importKey.mockRestore();
    }
  });
});

describe("createOutboundSigner", () => {
  it("signs each delivery under both schemes with the one key it imported", async () => {
    const signer = createOutboundSigner(SECRET);
    const opts = { secrets: [SECRET], nowSeconds: NOW, toleranceSeconds };
    for (const id of [FIXED_EVENT_ID, crypto.randomUUID()]) {
      const headers = await signer({ id, body: BODY, timestampSeconds: NOW });
      expect(Object.keys(headers).sort()).toEqual(SIGNED_OUTBOUND_HEADERS);
      expect(headers["Idempotency-Key"]).toBe(id);
      expect(await verifyWebhook(BODY, new Headers(headers), opts)).toEqual({
        ok: true,
        scheme: "standard-webhooks",
      });
      const hlfOnly = new Headers({ [HLF_SIGNATURE_HEADER]: headers[HLF_SIGNATURE_HEADER] });
      expect(await verifyWebhook(BODY, hlfOnly, opts)).toEqual({ ok: true, scheme: "hlf" });
      expect(await verifyWebhook(BODY + " ", hlfOnly, opts)).toMatchObject({ ok: false });
    }
  });

  it("refuses every delivery when the secret cannot be a key", async () => {
    const signer = createOutboundSigner("whsec_!!");
    const input = { id: FIXED_EVENT_ID, body: BODY, timestampSeconds: NOW };
    await expect(signer(input)).rejects.toBeInstanceOf(SecretFormatError);
    await expect(signer(input)).rejects.toBeInstanceOf(SecretFormatError);
  });
});
