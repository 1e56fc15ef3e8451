// The sandbox's own signature code against the product's signer and the reference Standard Webhooks
// library: each side must accept what the other signs and refuse what it should, for the same reason.
import { Webhook } from "standardwebhooks";
import { describe, expect, it } from "vitest";
import { outboundHeaders, verifyWebhook } from "../../shared/contract/signer.ts";
import {
  checkSignature,
  type SignatureCheckOptions,
  signedHeaders,
} from "../../local/dynamics-sandbox/signatures.ts";

const WHSEC = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const PLAIN = "hlf-local-dynamics-webhook-secret";
const NOW = 1_790_000_000;
const ID = "0b8f0d3e-3f7c-4c4e-9a57-8d1c6f2b9e11";
// Non-ASCII on purpose: the MAC is over UTF-8 bytes, not UTF-16 code units.
const BODY = JSON.stringify({ eventId: ID, mentorId: "m-1", note: "Ærlig talt, Tromsø" });
const bytes = new TextEncoder().encode(BODY);

const options = (o: Partial<SignatureCheckOptions> = {}): SignatureCheckOptions => ({
  secrets: [PLAIN],
  nowSeconds: NOW,
  toleranceSeconds: 300,
  ...o,
});

async function productHeaders(secret = PLAIN, timestampSeconds = NOW, body = BODY) {
  return new Headers(await outboundHeaders({ id: ID, body, secret, timestampSeconds }));
}

function without(headers: Headers, ...names: string[]): Headers {
  const copy = new Headers(headers);
  for (const name of names) copy.delete(name);
  return copy;
}

function withHeader(headers: Headers, name: string, value: string): Headers {
  const copy = new Headers(headers);
  copy.set(name, value);
  return copy;
}

describe("the sandbox checks what the product signs", () => {
  it.each([["a plain secret", PLAIN], ["a whsec_ secret", WHSEC]])(
    "accepts both schemes with %s",
    async (_name, secret) => {
      const headers = await productHeaders(secret);
      const o = options({ secrets: [secret] });
      expect(checkSignature(bytes, headers, o)).toEqual({ ok: true, scheme: "standard-webhooks" });
      const hlfOnly = without(headers, "webhook-id", "webhook-timestamp", "webhook-signature");
      expect(checkSignature(bytes, hlfOnly, o)).toEqual({ ok: true, scheme: "hlf" });
    },
  );

  it("accepts a valid HLF signature next to a forged standard one", async () => {
    const forged = withHeader(await productHeaders(), "webhook-signature", `v1,${"A".repeat(43)}=`);
    expect(checkSignature(bytes, forged, options())).toEqual({ ok: true, scheme: "hlf" });
  });

  it("accepts Svix's header names and any secret of a rotation", async () => {
    const headers = await productHeaders();
    const svix = new Headers({
      "svix-id": headers.get("webhook-id")!,
      "svix-timestamp": headers.get("webhook-timestamp")!,
      "svix-signature": headers.get("webhook-signature")!,
    });
    const rotation = options({ secrets: ["an-older-secret", PLAIN] });
    expect(checkSignature(bytes, svix, rotation)).toEqual({
      ok: true,
      scheme: "standard-webhooks",
    });
  });

  it("refuses for the same reason as the product's verifier", async () => {
    const good = await productHeaders();
    const cases: [string, Uint8Array, Headers, SignatureCheckOptions][] = [
      ["no signature", bytes, new Headers(), options()],
      ["another secret", bytes, await productHeaders("another-secret"), options()],
      ["another body", new TextEncoder().encode("{}"), good, options()],
      ["a stale timestamp", bytes, await productHeaders(PLAIN, NOW - 301), options()],
      ["a future timestamp", bytes, await productHeaders(PLAIN, NOW + 301), options()],
      [
        "a truncated standard signature, no HLF",
        bytes,
        withHeader(without(good, "x-hlf-signature"), "webhook-signature", "v1,AAAA"),
        options(),
      ],
      [
        "a malformed HLF header alone",
        bytes,
        new Headers({ "X-HLF-Signature": "sha256=xyz" }),
        options(),
      ],
      ["no secret at all", bytes, good, options({ secrets: [] })],
      [
        "a wrong standard signature and a malformed HLF one",
        bytes,
        withHeader(await productHeaders("another-secret"), "X-HLF-Signature", "sha256=xyz"),
        options(),
      ],
    ];
    for (const [name, body, headers, o] of cases) {
      const product = await verifyWebhook(body, headers, o);
      expect(checkSignature(body, headers, o), name).toEqual(product);
      expect(product.ok, name).toBe(false);
    }
  });
});

describe("the product and the reference library accept what the sandbox signs", () => {
  it.each([["a plain secret", PLAIN], ["a whsec_ secret", WHSEC]])(
    "with %s",
    async (_name, secret) => {
      const headers = signedHeaders({ id: ID, body: BODY, secret, nowSeconds: NOW + 0.9 });
      expect(headers["webhook-timestamp"]).toBe(String(NOW));
      const o = { secrets: [secret], nowSeconds: NOW, toleranceSeconds: 300 };
      expect(await verifyWebhook(BODY, new Headers(headers), o)).toEqual({
        ok: true,
        scheme: "standard-webhooks",
      });
      const hlf = new Headers({ "X-HLF-Signature": headers["X-HLF-Signature"] });
      expect(await verifyWebhook(BODY, hlf, o)).toEqual({ ok: true, scheme: "hlf" });
      // The library reads the real clock: sign "now" for it.
      const now = Math.floor(Date.now() / 1000);
      const fresh = signedHeaders({ id: ID, body: BODY, secret, nowSeconds: now });
      const library = secret === WHSEC
        ? new Webhook(secret)
        : new Webhook(secret, { format: "raw" });
      expect(library.verify(BODY, fresh)).toEqual(JSON.parse(BODY));
    },
  );

  it("refuses a secret that cannot be a key", () => {
    expect(() => signedHeaders({ id: ID, body: BODY, secret: "whsec_!!", nowSeconds: NOW }))
      .toThrow(/cannot be used/);
  });
});
