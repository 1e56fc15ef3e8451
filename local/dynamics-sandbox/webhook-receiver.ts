// The Dataverse-like endpoint our sync client posts to. Order of checks: injected fault, throttle,
// credentials, signature (on the raw bytes), payload schema, then idempotent apply by eventId.
import type { HttpBindings } from "@hono/node-server";
import type { Context } from "hono";
import { fromJson } from "../../shared/contract/payload.ts";
import { codeForStatus, DATAVERSE_CODES, dataverseError } from "./dataverse.ts";
import { beginDelivery, type DeliveryRecord, finishDelivery } from "./deliveries.ts";
import { type Fault, takeFault, takeSilentLoss } from "./faults.ts";
import { checkSignature } from "./signatures.ts";
import { admit, throttled } from "./service-protection.ts";
import { type AppliedEvent, applyEvent, increment, type SandboxState } from "./state.ts";
import { wait } from "./wait.ts";

export const WEBHOOK_PATH = "/api/data/v9.2/hlf_certificationwebhooks";

export type SandboxEnv = {
  Bindings: Partial<HttpBindings>;
  /** The throttle window's count when this request was admitted (service-protection.ts). */
  Variables: { admittedRemaining?: number };
};

export interface ReceiverDeps {
  state: SandboxState;
  now: () => number;
  /** Aborted when the sandbox stops: releases requests held by `hang` faults. */
  shutdown: AbortSignal;
  onApplied: (event: AppliedEvent) => void;
}

const utf8 = new TextDecoder();

export const WWW_AUTHENTICATE =
  'Bearer error="invalid_token", error_description="The access token is missing, invalid or expired"';

/** Handles one request and records it for the inspector (deliveries.ts). */
export async function handleWebhook(c: Context<SandboxEnv>, deps: ReceiverDeps): Promise<Response> {
  const record = beginDelivery(deps.state.deliveries, c.req.raw.headers, {
    nowMs: deps.now(),
    apiKeyHeader: deps.state.config.apiKeyHeader,
  });
  const response = await receive(c, deps, record);
  // The bytes receive() read (Hono caches the body per reader): asking for text instead would make
  // Hono rebuild the body through a new Response, a cost per delivery in a mass expiry's profile.
  await finishDelivery(record, async () => utf8.decode(await c.req.arrayBuffer()), response);
  return response;
}

async function receive(
  c: Context<SandboxEnv>,
  deps: ReceiverDeps,
  record: DeliveryRecord,
): Promise<Response> {
  const { state } = deps;
  state.counters.requests += 1;
  const fault = takeFault(state.faults, "webhook");
  if (fault) {
    record.fault = fault.kind;
    increment(state.counters.faultsServed, fault.kind);
    const answer = await serveFault(c, fault, deps);
    if (answer) return answer;
  }
  const nowMs = deps.now();
  const refused = admit(c, state, nowMs);
  if (refused) return refused;

  const reject = (reason: string, response: Response) => {
    increment(state.counters.rejected, reason);
    return response;
  };
  const credentialProblem = checkCredentials(c.req.raw.headers, state, nowMs);
  if (credentialProblem) {
    return reject(
      credentialProblem,
      dataverseError(401, DATAVERSE_CODES.unauthorized, `Unauthorized: ${credentialProblem}`, {
        "WWW-Authenticate": WWW_AUTHENTICATE,
      }),
    );
  }
  const body = new Uint8Array(await c.req.arrayBuffer());
  const verified = checkSignature(body, c.req.raw.headers, {
    secrets: state.config.signingSecrets,
    nowSeconds: Math.floor(nowMs / 1000),
    toleranceSeconds: state.config.signatureToleranceSeconds,
  });
  record.signature = verified.ok
    ? { checked: true, verified: true, scheme: verified.scheme }
    : { checked: true, verified: false, reason: verified.reason };
  if (!verified.ok) {
    // 403, not 401: the credential was accepted; a fresh token would not fix the signature.
    const message = `Signature check failed: ${verified.reason}`;
    return reject(verified.reason, dataverseError(403, DATAVERSE_CODES.unauthorized, message));
  }
  const parsed = fromJson(utf8.decode(body));
  if (!parsed.ok) {
    const detail = parsed.issues.map((i) => `${i.path || "(body)"}: ${i.message}`).join("; ");
    const message = `Error identified in Payload provided by the user: ${detail}`;
    return reject("invalid_payload", dataverseError(400, DATAVERSE_CODES.invalidPayload, message));
  }
  const entity = `${new URL(c.req.url).origin}${WEBHOOK_PATH}(${parsed.value.eventId})`;
  const created = { "OData-EntityId": entity, "OData-Version": "4.0" };
  if (
    !state.seenEventIds.has(parsed.value.eventId) &&
    takeSilentLoss(state.faults, parsed.value.eventType)
  ) {
    record.fault = "silent_loss";
    increment(state.counters.faultsServed, "silent_loss");
    state.counters.silentlyDropped += 1;
    return c.body(null, 204, created);
  }
  const result = applyEvent(state, parsed.value, { nowMs, signatureScheme: verified.scheme });
  if (!result.applied) return c.json({ duplicate: true, eventId: parsed.value.eventId }, 200);
  deps.onApplied(result.event);
  return c.body(null, 204, created);
}

/** The response for a fault, or null when the request should then be handled normally. */
async function serveFault(
  c: Context<SandboxEnv>,
  fault: Fault,
  deps: ReceiverDeps,
): Promise<Response | null> {
  switch (fault.kind) {
    case "status": {
      const headers: Record<string, string> = fault.retryAfter
        ? { "Retry-After": fault.retryAfter }
        : {};
      const echo = fault.echoHeaders
        ? ` Request headers: ${JSON.stringify([...c.req.raw.headers])}`
        : "";
      if (fault.status === 429) deps.state.counters.throttled += 1;
      return dataverseError(
        fault.status,
        codeForStatus(fault.status),
        `Injected fault.${echo}`,
        headers,
      );
    }
    case "rate_limit": {
      const waitMs = fault.retryAfterSeconds * 1000;
      const retryAfter = fault.format === "http-date"
        ? new Date(deps.now() + waitMs).toUTCString()
        : String(fault.retryAfterSeconds);
      return throttled(deps.state, waitMs, { retryAfter });
    }
    case "hang": {
      const client = c.req.raw.signal;
      await wait(fault.ms, AbortSignal.any([client, deps.shutdown]));
      if (client.aborted || deps.shutdown.aborted) {
        return dataverseError(503, DATAVERSE_CODES.unexpected, "Request abandoned.");
      }
      return null;
    }
    case "reset": {
      const socket = c.env?.incoming?.socket;
      if (socket) {
        socket.destroy();
        return new Response(null, { status: 502 });
      }
      // Under app.request() there is no socket to destroy; 502 is the nearest visible answer.
      return dataverseError(502, DATAVERSE_CODES.unexpected, "Connection reset (simulated).");
    }
    case "reject_token":
      return dataverseError(401, DATAVERSE_CODES.unauthorized, "Unauthorized: token revoked", {
        "WWW-Authenticate": WWW_AUTHENTICATE,
      });
    case "token_down":
    case "silent_loss":
      return null;
  }
}

export function checkCredentials(
  headers: Headers,
  state: SandboxState,
  nowMs: number,
): string | null {
  const { apiKey, apiKeyHeader } = state.config;
  const presentedKey = headers.get(apiKeyHeader);
  if (apiKey !== null && presentedKey !== null) {
    return presentedKey === apiKey ? null : "invalid_api_key";
  }
  const match = /^Bearer\s+(\S+)$/i.exec(headers.get("authorization") ?? "");
  if (!match) return "missing_credentials";
  const expiresAt = state.tokens.get(match[1]);
  if (expiresAt === undefined) return "invalid_token";
  return nowMs >= expiresAt ? "expired_token" : null;
}
