// Entra ID's client-credentials token endpoint, as far as the sync client can tell: same path, same
// form fields, same success body, same `{ error, error_description, error_codes }` failures.
import type { Context } from "hono";
import { takeFault } from "./faults.ts";
import { increment, type SandboxState } from "./state.ts";

export const TOKEN_PATH = "/:tenant/oauth2/v2.0/token";

export function tokenPathFor(tenant: string): string {
  return `/${encodeURIComponent(tenant)}/oauth2/v2.0/token`;
}

function entraError(
  status: number,
  error: string,
  aadsts: number,
  description: string,
  nowMs: number,
): Response {
  const traceId = crypto.randomUUID();
  const timestamp = new Date(nowMs).toISOString().replace("T", " ").replace(/\.\d+Z$/, "Z");
  const body = {
    error,
    error_description:
      `AADSTS${aadsts}: ${description}\r\nTrace ID: ${traceId}\r\nTimestamp: ${timestamp}`,
    error_codes: [aadsts],
    timestamp,
    trace_id: traceId,
    correlation_id: crypto.randomUUID(),
    error_uri: `https://login.microsoftonline.com/error?code=${aadsts}`,
  };
  return new Response(JSON.stringify(body), {
    status,
    headers: { "Content-Type": "application/json; charset=utf-8", "Cache-Control": "no-store" },
  });
}

function newAccessToken(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(32));
  const base64 = btoa(String.fromCharCode(...bytes));
  return `sbx.${base64.replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "")}`;
}

export async function handleTokenRequest(
  c: Context,
  state: SandboxState,
  nowMs: number,
): Promise<Response> {
  const { config, counters } = state;
  counters.tokenRequests += 1;
  const reject = (reason: string, status: number, error: string, code: number, text: string) => {
    increment(counters.rejected, `token_${reason}`);
    return entraError(status, error, code, text, nowMs);
  };
  const fault = takeFault(state.faults, "token");
  if (fault?.kind === "token_down") {
    increment(counters.faultsServed, fault.kind);
    const echo = fault.echoRequest ? ` Request: ${await c.req.text()}` : "";
    const description = `The server is temporarily unavailable.${echo}`;
    return entraError(fault.status, "temporarily_unavailable", 50_196, description, nowMs);
  }
  if (c.req.param("tenant") !== config.tenant) {
    return reject("tenant", 400, "invalid_request", 90_002, "Tenant not found.");
  }
  const form = new URLSearchParams(await c.req.text());
  const clientId = form.get("client_id");
  const scope = form.get("scope");
  if (form.get("grant_type") !== "client_credentials") {
    return reject(
      "grant_type",
      400,
      "unsupported_grant_type",
      70_003,
      "The grant type is unsupported.",
    );
  }
  if (!clientId) {
    return reject(
      "request",
      400,
      "invalid_request",
      900_144,
      "The request body must contain the following parameter: 'client_id'.",
    );
  }
  if (clientId !== config.clientId) {
    return reject(
      "client_id",
      400,
      "unauthorized_client",
      700_016,
      "Application was not found in the directory.",
    );
  }
  if (form.get("client_secret") !== config.clientSecret) {
    return reject(
      "client_secret",
      401,
      "invalid_client",
      7_000_215,
      "Invalid client secret provided.",
    );
  }
  if (!scope || !scope.endsWith("/.default")) {
    return reject(
      "scope",
      400,
      "invalid_scope",
      1_002_012,
      "Client credential flows must have a scope value with /.default suffixed to the resource identifier.",
    );
  }
  const token = newAccessToken();
  state.tokens.set(token, nowMs + config.tokenLifetimeSeconds * 1000);
  counters.tokensIssued += 1;
  return c.json({
    token_type: "Bearer",
    expires_in: config.tokenLifetimeSeconds,
    ext_expires_in: config.tokenLifetimeSeconds,
    access_token: token,
  });
}
