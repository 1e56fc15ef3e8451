// Credentials for Dynamics requests. `apikey`: a fixed header. `oauth2`: Entra ID client-credentials
// tokens, cached until shortly before expiry, fetched by one shared in-flight request however many
// sends need a token at once, and dropped when the API rejects them. Token-endpoint failures come
// back as `auth` errors carrying the endpoint's status and Entra's error code, never a credential.
import { type DeliveryFailure, deliveryFailure, redact } from "./errors.ts";

export type DynamicsAuthOptions =
  | {
    mode: "oauth2";
    tokenUrl: string;
    clientId: string;
    clientSecret: string;
    scope: string;
    /** Refresh this long before expiry; clamped to half the token lifetime. */
    refreshSkewSeconds: number;
  }
  | { mode: "apikey"; header: string; key: string };

export interface AuthProviderDeps {
  fetch?: typeof fetch;
  now?: () => number;
  /** Timeout of one token-endpoint request (the client passes its attempt timeout). */
  timeoutMs: number;
}

export type AuthResult =
  | { ok: true; headers: Record<string, string>; credential: string }
  | { ok: false; error: DeliveryFailure };

export interface AuthProvider {
  authorize(): Promise<AuthResult>;
  /** The API refused `credential`. Drops it if still cached; true when a fresh one may help. */
  invalidate(credential: string): boolean;
  /** Values that must never reach a log line or audit record. */
  secrets(): string[];
}

// Old tokens are remembered only so redaction can still recognise them in an echoed error body.
const REMEMBERED_TOKENS = 8;

export type TokenResponse = {
  ok: true;
  accessToken: string;
  expiresInSeconds: number;
} | {
  ok: false;
  error: DeliveryFailure;
};

/** Reads an Entra token response (success or `{ error, error_description }`); pure. */
export function parseTokenResponse(
  status: number,
  bodyText: string,
  secrets: readonly string[],
): TokenResponse {
  let body: Record<string, unknown> | null = null;
  try {
    const parsed: unknown = JSON.parse(bodyText);
    if (parsed && typeof parsed === "object") {
      body = parsed as Record<string, unknown>;
    }
  } catch {
    body = null;
  }
  if (status < 200 || status >= 300) {
    const entra = [body?.error, firstLine(body?.error_description)]
      .filter((part): part is string => typeof part === "string" && part !== "")
      .join(": ");
    const message = `token endpoint answered ${status}${entra ? ` ${entra}` : ""}`;
    return {
      ok: false,
      error: deliveryFailure(
        "auth",
        "token_endpoint_error",
        redact(message, secrets),
        { status },
      ),
    };
  }
  const accessToken = body?.access_token;
  const expiresIn = Number(body?.expires_in);
  const tokenType = body?.token_type;
  if (
    typeof accessToken !== "string" || accessToken === "" || !(expiresIn > 0) ||
    (tokenType !== undefined && String(tokenType).toLowerCase() !== "bearer")
  ) {
    const message = `token endpoint answered ${status} without a usable bearer token`;
    return {
      ok: false,
      error: deliveryFailure("auth", "token_response_invalid", message, { status }),
    };
  }
  return { ok: true, accessToken, expiresInSeconds: expiresIn };
}

function firstLine(value: unknown): string | undefined {
  return typeof value === "string" ? value.split(/\r?\n/)[0].trim() : undefined;
}

export function createAuthProvider(
  auth: DynamicsAuthOptions,
  deps: AuthProviderDeps,
): AuthProvider {
  if (auth.mode === "apikey") {
    return {
      authorize: () =>
        Promise.resolve({
          ok: true,
          headers: { [auth.header]: auth.key },
          credential: auth.key,
        }),
      invalidate: () => false,
      secrets: () => [auth.key],
    };
  }
  return createOAuth2Provider(auth, deps);
}

function createOAuth2Provider(
  auth: Extract<DynamicsAuthOptions, { mode: "oauth2" }>,
  deps: AuthProviderDeps,
): AuthProvider {
  const doFetch = deps.fetch ?? fetch;
  const now = deps.now ?? Date.now;
  const { timeoutMs } = deps;
  const skewMs = Math.max(0, auth.refreshSkewSeconds) * 1000;
  const seenTokens: string[] = [];
  let cached: { token: string; refreshAt: number } | null = null;
  let inFlight: Promise<AuthResult> | null = null;

  const secrets = () => [auth.clientSecret, ...seenTokens];

  const bearer = (token: string): AuthResult => ({
    ok: true,
    headers: { Authorization: `Bearer ${token}` },
    credential: token,
  });

  async function requestToken(): Promise<AuthResult> {
    const form = new URLSearchParams({
      grant_type: "client_credentials",
      client_id: auth.clientId,
      client_secret: auth.clientSecret,
      scope: auth.scope,
    });
    const requestedAt = now();
    let response: Response;
    let text: string;
    try {
      response = await doFetch(auth.tokenUrl, {
        method: "POST",
        headers: {
          "Content-Type": "application/x-www-form-urlencoded",
          Accept: "application/json",
        },
        body: form.toString(),
        signal: AbortSignal.timeout(timeoutMs),
      });
      text = await response.text();
    } catch (error) {
      const timedOut = error instanceof Error && error.name === "TimeoutError";
      const code = timedOut ? "token_endpoint_timeout" : "token_endpoint_unreachable";
      const detail = timedOut ? `no answer within ${timeoutMs} ms` : String(error);
      const message = redact(
        `token endpoint unreachable: ${detail}`,
        secrets(),
      );
      return { ok: false, error: deliveryFailure("auth", code, message) };
    }
    const parsed = parseTokenResponse(response.status, text, secrets());
    if (!parsed.ok) return parsed;
    remember(parsed.accessToken);
    const lifetimeMs = parsed.expiresInSeconds * 1000;
    // A skew larger than half the lifetime would make every short-lived token "expired" at once.
    cached = {
      token: parsed.accessToken,
      refreshAt: requestedAt + lifetimeMs - Math.min(skewMs, lifetimeMs / 2),
    };
    return bearer(parsed.accessToken);
  }

  function remember(token: string) {
    seenTokens.unshift(token);
    seenTokens.length = Math.min(seenTokens.length, REMEMBERED_TOKENS);
  }

  return {
    authorize() {
      if (cached && now() < cached.refreshAt) {
        return Promise.resolve(bearer(cached.token));
      }
      inFlight ??= requestToken().finally(() => {
        inFlight = null;
      });
      return inFlight;
    },
    invalidate(credential) {
      if (cached?.token === credential) cached = null;
      return true;
    },
    secrets,
  };
}
