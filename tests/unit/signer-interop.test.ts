// Interoperability with the reference Standard Webhooks library (code nobody here wrote).
import { Webhook } from "standardwebhooks";
import { describe, expect, it } from "vitest";
import { outboundHeaders, verifyWebhook } from "../../shared/contract/signer.ts";
import { toJson } from "../../shared/contract/payload.ts";
import { FIXED_EVENT_ID, listingChanged, payload } from "../support/payload-factory.ts";
import { defaults } from "../support/config-defaults.ts";

const { toleranceSeconds } = defaults.inbound;

const WHSEC = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const PLAIN_ASCII = "hlf-local-dynamics-webhook-secret";
const encoder = new TextEncoder();

// The library checks timestamps against the real clock, so these tests sign "now".
const nowSeconds = () => Math.floor(Date.now() / 1000);

const cases = [
  ["a whsec_ secret", WHSEC, () => new Webhook(WHSEC)],
  // The library's raw format takes a string's char codes, which equal UTF-8 bytes for ASCII.
  ["a plain ASCII secret", PLAIN_ASCII, () => new Webhook(PLAIN_ASCII, { format: "raw" })],
] as const;

const bodies = [
  ["an outbound payload", toJson(payload())],
  ["a non-ASCII inbound event", JSON.stringify(listingChanged())],
] as const;

describe.each(cases)("with %s", (_name, secret, library) => {
  it.each(bodies)("our outbound headers verify in the library (%s)", async (_body, body) => {
    const headers = await outboundHeaders({
      id: FIXED_EVENT_ID,
      body,
      secret,
      timestampSeconds: nowSeconds(),
    });
    expect(library().verify(body, headers)).toEqual(JSON.parse(body));
    expect(() => library().verify(body.replace("1", "2"), headers)).toThrow(/signature/i);
  });

  it.each(bodies)("the library's signature verifies in ours (%s)", async (_body, body) => {
    const now = nowSeconds();
    const headers = new Headers({
      "webhook-id": "msg_2Kx9",
      "webhook-timestamp": String(now),
      "webhook-signature": library().sign("msg_2Kx9", new Date(now * 1000), body),
    });
    const bytes = encoder.encode(body);
    expect(
      await verifyWebhook(bytes, headers, { secrets: [secret], nowSeconds: now, toleranceSeconds }),
    ).toEqual({
      ok: true,
      scheme: "standard-webhooks",
    });
    expect(
      await verifyWebhook(bytes, headers, {
        secrets: ["other"],
        nowSeconds: now,
        toleranceSeconds,
      }),
    )
      .toEqual({ ok: false, reason: "signature_mismatch" });
  });
});
