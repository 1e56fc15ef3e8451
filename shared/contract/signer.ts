// Webhook signatures, both schemes we send and accept:
// - HLF:               `X-HLF-Signature: sha256=<lowercase hex HMAC-SHA256(key, body)>`
// - Standard Webhooks: `webhook-signature: v1,<base64 HMAC-SHA256(key, "<id>.<timestamp>.<body>")>`
// Key derivation is the same for both: a `whsec_` secret is the base64 decoding of what follows the
// prefix; any other secret is used as its UTF-8 bytes.

export const HLF_SIGNATURE_HEADER = "X-HLF-Signature";

const WHSEC_PREFIX = "whsec_";
const MAC_BYTES = 32;
const encoder = new TextEncoder();

/** A configured secret that cannot be turned into a key. The message never contains the secret. */
export class SecretFormatError extends Error {
  readonly kind = "permanent";
  constructor(message: string) {
    super(message);
    this.name = "SecretFormatError";
  }
}

// Byte conversions are plain loops: `Uint8Array.from(text, fn)` and `new Uint8Array(bytes)` were a
// quarter of a webhook verification's CPU (V8 profile, 2026-11-24), the HMAC itself another quarter.
function decodeBase64(text: string): Uint8Array<ArrayBuffer> | null {
  if (text.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(text)) {
    return null;
  }
  return latin1Bytes(atob(text));
}

function latin1Bytes(text: string): Uint8Array<ArrayBuffer> {
  const bytes = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) bytes[i] = text.charCodeAt(i);
  return bytes;
}

function encodeBase64(bytes: Uint8Array): string {
  return btoa(String.fromCharCode(...bytes));
}

const HEX = Array.from({ length: 256 }, (_, b) => b.toString(16).padStart(2, "0"));

function toHex(bytes: Uint8Array): string {
  let hex = "";
  for (const b of bytes) hex += HEX[b];
  return hex;
}

/** Bytes of an even-length hex string the caller has checked. */
function fromHex(hex: string): Uint8Array {
  const bytes = new Uint8Array(hex.length / 2);
  for (let i = 0; i < bytes.length; i++) bytes[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return bytes;
}

// WebCrypto copies what it is given, so bytes over an ArrayBuffer are used as they are.
function bytesOf(body: Uint8Array | string): Uint8Array<ArrayBuffer> {
  if (typeof body === "string") return encoder.encode(body);
  return body.buffer instanceof ArrayBuffer
    ? body as Uint8Array<ArrayBuffer>
    : new Uint8Array(body);
}

/** The HMAC key bytes for a secret (see the header comment for the rule). */
export function secretKeyBytes(secret: string): Uint8Array<ArrayBuffer> {
  if (!secret.startsWith(WHSEC_PREFIX)) {
    if (secret.length === 0) {
      throw new SecretFormatError("webhook secret is empty");
    }
    return encoder.encode(secret);
  }
  const key = decodeBase64(secret.slice(WHSEC_PREFIX.length));
  if (key === null || key.length === 0) {
    throw new SecretFormatError(
      "a whsec_ webhook secret must be non-empty base64 after the prefix",
    );
  }
  return key;
}

function importKey(secret: string): Promise<CryptoKey> {
  return crypto.subtle.importKey(
    "raw",
    secretKeyBytes(secret),
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["sign"],
  );
}

async function hmac(
  key: CryptoKey,
  data: Uint8Array<ArrayBuffer>,
): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.sign("HMAC", key, data));
}

function standardContent(
  id: string,
  timestamp: string,
  body: Uint8Array<ArrayBuffer>,
): Uint8Array<ArrayBuffer> {
  const prefix = encoder.encode(`${id}.${timestamp}.`);
  const content = new Uint8Array(prefix.length + body.length);
  content.set(prefix);
  content.set(body, prefix.length);
  return content;
}

/** Compares without an early exit, so the time taken does not reveal where the inputs differ. */
export function timingSafeEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i] ^ b[i];
  return diff === 0;
}

/** Lowercase hex HMAC-SHA256 of the raw body bytes (the HLF scheme). */
export async function sign(
  body: Uint8Array | string,
  secret: string,
): Promise<string> {
  return toHex(await hmac(await importKey(secret), bytesOf(body)));
}

export interface SignInput {
  id: string;
  body: Uint8Array | string;
  secret: string;
  /** Unix seconds; a fractional part is dropped. */
  timestampSeconds: number;
}

export async function signatureHeaders(
  input: SignInput,
): Promise<Record<string, string>> {
  return await headersWithKey(await importKey(input.secret), input);
}

async function headersWithKey(
  key: CryptoKey,
  input: Omit<SignInput, "secret">,
): Promise<Record<string, string>> {
  const body = bytesOf(input.body);
  const timestamp = String(Math.floor(input.timestampSeconds));
  const [hlf, standard] = await Promise.all([
    hmac(key, body),
    hmac(key, standardContent(input.id, timestamp, body)),
  ]);
  return {
    [HLF_SIGNATURE_HEADER]: `sha256=${toHex(hlf)}`,
    "webhook-id": input.id,
    "webhook-timestamp": timestamp,
    "webhook-signature": `v1,${encodeBase64(standard)}`,
  };
}

/** Every header of an outbound delivery except `Authorization` (that comes from the auth mode). */
export async function outboundHeaders(
  input: SignInput,
): Promise<Record<string, string>> {
  return await createOutboundSigner(input.secret)(input);
}

export type OutboundSigner = (
  input: Omit<SignInput, "secret">,
) => Promise<Record<string, string>>;

/**
 * `outboundHeaders` with the secret's key imported once for the dispatcher (a key import per send
 * otherwise: measured in bench scenario 7's CPU profile of a mass expiry).
 */
export function createOutboundSigner(secret: string): OutboundSigner {
  let key: Promise<CryptoKey> | undefined;
  return async (input) => {
    key ??= importKey(secret);
    return {
      "Content-Type": "application/json",
      "Idempotency-Key": input.id,
      ...(await headersWithKey(await key, input)),
    };
  };
}

export type VerifyFailure =
  | "missing_signature"
  | "malformed_signature"
  | "signature_mismatch"
  | "timestamp_out_of_tolerance";

export type VerifyResult =
  | { ok: true; scheme: "standard-webhooks" | "hlf" }
  | { ok: false; reason: VerifyFailure };

export interface VerifyOptions {
  secrets: readonly string[];
  nowSeconds: number;
  /** Allowed distance of `webhook-timestamp` from `nowSeconds`, past or future. */
  toleranceSeconds: number;
}

const fail = (reason: VerifyFailure): VerifyResult => ({ ok: false, reason });

/** True when some key's MAC over `data` equals one of the candidate signatures. */
async function anyMatch(
  keys: readonly Promise<CryptoKey>[],
  data: Uint8Array<ArrayBuffer>,
  candidates: readonly Uint8Array[],
): Promise<boolean> {
  for (const key of keys) {
    const expected = await hmac(await key, data);
    if (candidates.some((candidate) => timingSafeEqual(expected, candidate))) {
      return true;
    }
  }
  return false;
}

async function verifyHlf(
  body: Uint8Array<ArrayBuffer>,
  header: string,
  keys: readonly Promise<CryptoKey>[],
): Promise<VerifyResult> {
  const match = /^sha256=([0-9a-fA-F]{64})$/.exec(header.trim());
  if (match === null) return fail("malformed_signature");
  const ok = await anyMatch(keys, body, [fromHex(match[1])]);
  return ok ? { ok: true, scheme: "hlf" } : fail("signature_mismatch");
}

function standardCandidates(header: string): Uint8Array[] {
  return header.trim().split(/\s+/).flatMap((entry) => {
    if (!entry.startsWith("v1,")) return [];
    const bytes = decodeBase64(entry.slice(3));
    return bytes !== null && bytes.length === MAC_BYTES ? [bytes] : [];
  });
}

// Svix signs exactly as Standard Webhooks does, under its own header names.
const STANDARD_PREFIXES = ["webhook-", "svix-"] as const;
type StandardPart = "id" | "timestamp" | "signature";

/** A Standard Webhooks header under its own name, else its `svix-*` alias. */
function standardHeader(headers: Headers, part: StandardPart): string | null {
  for (const prefix of STANDARD_PREFIXES) {
    const value = headers.get(`${prefix}${part}`);
    if (value !== null) return value;
  }
  return null;
}

function hasStandardHeaders(headers: Headers): boolean {
  return (["id", "timestamp", "signature"] as const).some((part) =>
    standardHeader(headers, part) !== null
  );
}

/** `VerifyOptions` with the secrets' keys imported. */
type KeyedOptions = Omit<VerifyOptions, "secrets"> & { keys: readonly Promise<CryptoKey>[] };

async function verifyStandard(
  body: Uint8Array<ArrayBuffer>,
  headers: Headers,
  opts: KeyedOptions,
): Promise<VerifyResult> {
  const signature = standardHeader(headers, "signature");
  const id = standardHeader(headers, "id");
  const timestamp = standardHeader(headers, "timestamp")?.trim();
  if (signature === null) return fail("missing_signature");
  if (!id || timestamp === undefined || !/^\d{1,15}$/.test(timestamp)) {
    return fail("malformed_signature");
  }
  const candidates = standardCandidates(signature);
  if (candidates.length === 0) return fail("malformed_signature");
  const ok = await anyMatch(
    opts.keys,
    standardContent(id, timestamp, body),
    candidates,
  );
  if (!ok) return fail("signature_mismatch");
  const tolerance = opts.toleranceSeconds;
  return Math.abs(opts.nowSeconds - Number(timestamp)) > tolerance
    ? fail("timestamp_out_of_tolerance")
    : { ok: true, scheme: "standard-webhooks" };
}

/**
 * Verifies an inbound request on its raw body bytes. The scheme is chosen by what verifies, not by
 * which headers are present: Standard Webhooks (`webhook-*`, or Svix's `svix-*` names; timestamp
 * enforced) is tried first, then `X-HLF-Signature`. A stray header of one scheme next to a valid
 * signature of the other does not fail the request. An authentic Standard Webhooks signature with a
 * stale timestamp is final (a replay, or a sender's clock to fix): no fallback. When nothing
 * verifies, the reason reported is the Standard Webhooks one if those headers were sent. Any secret in `secrets` may match
 * (rotation); an empty list never verifies.
 */
export async function verifyWebhook(
  body: Uint8Array | string,
  headers: Headers,
  opts: VerifyOptions,
): Promise<VerifyResult> {
  return await verifyWithKeys(bytesOf(body), headers, {
    ...opts,
    keys: opts.secrets.map(importKey),
  });
}

async function verifyWithKeys(
  bytes: Uint8Array<ArrayBuffer>,
  headers: Headers,
  opts: KeyedOptions,
): Promise<VerifyResult> {
  const failures: VerifyResult[] = [];
  if (hasStandardHeaders(headers)) {
    const standard = await verifyStandard(bytes, headers, opts);
    if (standard.ok || standard.reason === "timestamp_out_of_tolerance") {
      return standard;
    }
    failures.push(standard);
  }
  const hlf = headers.get(HLF_SIGNATURE_HEADER);
  if (hlf !== null) {
    const result = await verifyHlf(bytes, hlf, opts.keys);
    if (result.ok) return result;
    failures.push(result);
  }
  return failures[0] ?? fail("missing_signature");
}

export type WebhookVerifier = (
  body: Uint8Array,
  headers: Headers,
) => Promise<VerifyResult>;

/**
 * `verifyWebhook` with the secrets' keys imported once for the process (a key import per secret
 * per request otherwise) and the clock read at each call.
 */
export function createWebhookVerifier(opts: {
  secrets: readonly string[];
  toleranceSeconds: number;
  now: () => number;
}): WebhookVerifier {
  const keys = opts.secrets.map(importKey);
  return (body, headers) =>
    verifyWithKeys(bytesOf(body), headers, {
      keys,
      nowSeconds: Math.floor(opts.now() / 1000),
      toleranceSeconds: opts.toleranceSeconds,
    });
}
