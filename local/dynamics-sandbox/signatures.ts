// The Dynamics side of the signature contract (DESIGN.md, "Contract"): checks what our dispatcher
// sends and signs the confirmations our `dynamics-webhook` verifies. Written apart from the product's
// shared/contract/signer.ts on purpose, so the two check each other instead of sharing a mistake,
// and on node:crypto's synchronous HMAC: the sandbox runs under Node, where every WebCrypto HMAC is
// a job handed to libuv's thread pool (about 40 us of CPU a call here, against 6 for `createHmac`,
// and a thread wake-up each on cores the bench shares with what it measures). The reference
// `standardwebhooks` library would do the Standard Webhooks half, but it reads the real clock and
// fixes the tolerance at five minutes; the sandbox has an injected clock and a configured tolerance.
import { createHmac, timingSafeEqual } from "node:crypto";

export type SignatureScheme = "standard-webhooks" | "hlf";
export type SignatureFailure =
  | "missing_signature"
  | "malformed_signature"
  | "signature_mismatch"
  | "timestamp_out_of_tolerance";
export type SignatureVerdict =
  | { ok: true; scheme: SignatureScheme }
  | { ok: false; reason: SignatureFailure };

const STRICT_BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const MAC_LENGTH = 32;

function strictBase64(text: string): Buffer | null {
  return STRICT_BASE64.test(text) ? Buffer.from(text, "base64") : null;
}

// Secrets change through the control API; their key bytes are derived once each.
const keyBytes = new Map<string, Buffer | null>();

/** `whsec_<base64>` is the decoded bytes; anything else its UTF-8 bytes; null when unusable. */
function keyFor(secret: string): Buffer | null {
  let key = keyBytes.get(secret);
  if (key === undefined) {
    const encoded = secret.startsWith("whsec_") ? strictBase64(secret.slice(6)) : undefined;
    key = encoded === undefined ? Buffer.from(secret, "utf8") : encoded;
    if (key !== null && key.length === 0) key = null;
    keyBytes.set(secret, key);
  }
  return key;
}

const mac = (key: Buffer, ...parts: (string | Uint8Array)[]) => {
  const h = createHmac("sha256", key);
  for (const part of parts) h.update(part);
  return h.digest();
};

const failed = (reason: SignatureFailure): SignatureVerdict => ({ ok: false, reason });

/** Any of `secrets` signs `parts` as one of `candidates`. */
function signedByAny(
  secrets: readonly string[],
  parts: (string | Uint8Array)[],
  candidates: Buffer[],
): boolean {
  return secrets.some((secret) => {
    const key = keyFor(secret);
    if (key === null) return false;
    const expected = mac(key, ...parts);
    return candidates.some((c) => c.length === expected.length && timingSafeEqual(c, expected));
  });
}

/** A Standard Webhooks header, or Svix's alias for it (Svix signs the same way). */
const standard = (headers: Headers, part: "id" | "timestamp" | "signature") =>
  headers.get(`webhook-${part}`) ?? headers.get(`svix-${part}`);

function checkStandard(
  body: Uint8Array,
  headers: Headers,
  o: SignatureCheckOptions,
): SignatureVerdict {
  const signature = standard(headers, "signature");
  if (signature === null) return failed("missing_signature");
  const id = standard(headers, "id");
  const timestamp = standard(headers, "timestamp")?.trim() ?? "";
  if (!id || !/^\d{1,15}$/.test(timestamp)) return failed("malformed_signature");
  const candidates = signature.trim().split(/\s+/)
    .filter((entry) => entry.startsWith("v1,"))
    .map((entry) => strictBase64(entry.slice(3)))
    .filter((bytes): bytes is Buffer => bytes !== null && bytes.length === MAC_LENGTH);
  if (candidates.length === 0) return failed("malformed_signature");
  if (!signedByAny(o.secrets, [`${id}.${timestamp}.`, body], candidates)) {
    return failed("signature_mismatch");
  }
  return Math.abs(o.nowSeconds - Number(timestamp)) > o.toleranceSeconds
    ? failed("timestamp_out_of_tolerance")
    : { ok: true, scheme: "standard-webhooks" };
}

function checkHlf(body: Uint8Array, header: string, secrets: readonly string[]): SignatureVerdict {
  const hex = /^sha256=([0-9a-fA-F]{64})$/.exec(header.trim())?.[1];
  if (hex === undefined) return failed("malformed_signature");
  return signedByAny(secrets, [body], [Buffer.from(hex, "hex")])
    ? { ok: true, scheme: "hlf" }
    : failed("signature_mismatch");
}

export interface SignatureCheckOptions {
  /** Every secret that may have signed (rotation); none verifies nothing. */
  secrets: readonly string[];
  nowSeconds: number;
  toleranceSeconds: number;
}

/**
 * The contract's rule: Standard Webhooks first when any of its headers came (an authentic one with a
 * stale timestamp is final), else `X-HLF-Signature`; when neither verifies, the first reason.
 */
export function checkSignature(
  body: Uint8Array,
  headers: Headers,
  o: SignatureCheckOptions,
): SignatureVerdict {
  const reasons: SignatureVerdict[] = [];
  const parts = ["id", "timestamp", "signature"] as const;
  if (parts.some((part) => standard(headers, part) !== null)) {
    const verdict = checkStandard(body, headers, o);
    if (verdict.ok || verdict.reason === "timestamp_out_of_tolerance") return verdict;
    reasons.push(verdict);
  }
  const hlf = headers.get("x-hlf-signature");
  if (hlf !== null) {
    const verdict = checkHlf(body, hlf, o.secrets);
    if (verdict.ok) return verdict;
    reasons.push(verdict);
  }
  return reasons[0] ?? failed("missing_signature");
}

/** Both schemes' headers for a body the sandbox sends (its confirmation callbacks). */
export function signedHeaders(
  o: { id: string; body: string; secret: string; nowSeconds: number },
): Record<string, string> {
  const key = keyFor(o.secret);
  if (key === null) throw new Error("the callback secret cannot be used as an HMAC key");
  const timestamp = String(Math.floor(o.nowSeconds));
  return {
    "X-HLF-Signature": `sha256=${mac(key, o.body).toString("hex")}`,
    "webhook-id": o.id,
    "webhook-timestamp": timestamp,
    "webhook-signature": `v1,${mac(key, `${o.id}.${timestamp}.`, o.body).toString("base64")}`,
  };
}
