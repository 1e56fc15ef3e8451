// Sends one webhook to Dynamics and reports a typed outcome; it never throws.
//
// The retry policy is written here rather than taken from `cockatiel` or `p-retry`: it needs an
// injected clock, sleep and random (tests run without real time passing), an audit hook on every
// attempt, Retry-After overriding the backoff, a 401 retry that does not consume a backoff retry, and
// a wall-clock budget that refuses to start a sleep or an attempt it cannot finish. Bending a library
// to all of that is more code, and harder to read, than the loop below.
import { backoffDelay } from "./backoff.ts";
import { type CircuitBreaker, type CircuitState, createCircuitBreaker } from "./circuit-breaker.ts";
import {
  type AttemptOutcome,
  classifyStatus,
  fetchError,
  httpError,
  summarizeBody,
} from "./classify.ts";
import { createAuthProvider, type DynamicsAuthOptions } from "./dynamics-auth.ts";
import { type DeliveryFailure, deliveryFailure, redact } from "./errors.ts";
import { throttleHints } from "./rate-limit-headers.ts";
import { retryAfterFromHeaders } from "./retry-after.ts";
import { createThrottleBucket, type ThrottleHints } from "./throttle-bucket.ts";
import { readAtMost } from "../read-at-most.ts";

export interface DynamicsClientOptions {
  webhookUrl: string;
  auth: DynamicsAuthOptions;
  /** The settings come from shared/config.ts, where each default is written once. */
  retry: {
    maxRetries: number;
    baseDelayMs: number;
    maxDelayMs: number;
    retryAfterCapMs: number;
    /** A retry is only scheduled if at least this much budget remains after its sleep. */
    minAttemptMs?: number;
  };
  attemptTimeoutMs: number;
  /** Budget of a send that names none (keep under the edge function's wall-clock limit). */
  budgetMs: number;
  circuit: { failureThreshold: number; cooldownMs: number } | false;
  /** Extra values (e.g. the signing secret) to scrub from error messages. */
  secrets?: readonly string[];
  fetch?: typeof fetch;
  now?: () => number;
  /** `signal` cancels a wake-up the throttle bucket no longer needs. */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  random?: () => number;
}

export interface DynamicsRequest {
  eventId: string;
  body: string;
  /** Called before every attempt, so each one is signed with a fresh timestamp. */
  headers: (ctx: { attempt: number; nowMs: number }) => Promise<Record<string, string>>;
  /** Must handle its own failures: a throw is ignored so it cannot mask the delivery outcome. */
  onAttempt?: (a: AttemptRecord) => void | Promise<void>;
  budgetMs?: number;
  signal?: AbortSignal;
}

export interface AttemptRecord {
  attempt: number;
  startedAt: Date;
  finishedAt: Date;
  durationMs: number;
  status: number | null;
  outcome: AttemptOutcome;
  errorCode: string | null;
  error: string | null;
  retryAfterMs: number | null;
}

export type SendOutcome =
  | { ok: true; status: number; attempts: number }
  | { ok: false; error: DeliveryFailure; attempts: number };

export interface ReadRequest {
  url: string;
  headers?: Record<string, string>;
  budgetMs?: number;
  signal?: AbortSignal;
}

/** `attempts`: requests sent, retries included. */
export type ReadOutcome =
  | { ok: true; status: number; body: string; attempts: number }
  | { ok: false; error: DeliveryFailure; attempts: number };

export interface DynamicsClient {
  send(request: DynamicsRequest): Promise<SendOutcome>;
  /**
   * GETs a resource (a page of the listings collection) with the same credentials, timeouts,
   * retries, Retry-After handling and circuit breaker as a send.
   */
  read(request: ReadRequest): Promise<ReadOutcome>;
  /** null when the client runs without a circuit breaker. */
  circuitState(): CircuitState | null;
}

// A retry is not worth scheduling with less time than this left for its attempt (not configured).
const MIN_ATTEMPT_MS = 100;

// Enough of an error body to diagnose it; the rest is never read.
const MAX_BODY_BYTES = 4096;

type Exchange = {
  status: number | null;
  error: DeliveryFailure | null;
  credentialRejected: boolean;
  /** What the response said about the rate limit; null without a response. */
  hints: ThrottleHints | null;
  /** The response body of a successful read. */
  text?: string;
};

/** One request as the retry loop sends it, attempt after attempt. */
interface Operation {
  method: "POST" | "GET";
  url: string;
  body?: string;
  headers: (ctx: { attempt: number; nowMs: number }) => Promise<Record<string, string>>;
  onAttempt?: (a: AttemptRecord) => void | Promise<void>;
  budgetMs?: number;
  signal?: AbortSignal;
  readBody: boolean;
}

type OperationOutcome =
  | { ok: true; status: number; attempts: number; text: string }
  | { ok: false; error: DeliveryFailure; attempts: number };

export function createDynamicsClient(options: DynamicsClientOptions): DynamicsClient {
  const doFetch = options.fetch ?? fetch;
  const now = options.now ?? Date.now;
  const sleep = options.sleep ?? abortableSleep;
  const random = options.random ?? Math.random;
  const settings = { minAttemptMs: MIN_ATTEMPT_MS, ...options.retry };
  const backoff = { baseDelayMs: settings.baseDelayMs, maxDelayMs: settings.maxDelayMs };
  const { attemptTimeoutMs, budgetMs: defaultBudgetMs } = options;
  const auth = createAuthProvider(options.auth, {
    fetch: doFetch,
    now,
    timeoutMs: attemptTimeoutMs,
  });
  const breaker: CircuitBreaker | null = options.circuit === false
    ? null
    : createCircuitBreaker({ ...options.circuit, now });
  // Every request of this client, sends, retries and reads alike, starts with a permit from here.
  const bucket = createThrottleBucket({ now, sleep });
  const rejectedCode = options.auth.mode === "apikey" ? "api_key_rejected" : "token_rejected";
  const secrets = () => [...auth.secrets(), ...(options.secrets ?? [])];

  async function exchange(
    op: Operation,
    headers: Record<string, string>,
    timeoutMs: number,
  ): Promise<Exchange> {
    const callerSignal = op.signal;
    const timeout = AbortSignal.timeout(timeoutMs);
    const signal = callerSignal ? AbortSignal.any([callerSignal, timeout]) : timeout;
    try {
      const response = await doFetch(op.url, {
        method: op.method,
        headers,
        body: op.body,
        signal,
        // A redirect is unexpected from Dataverse; following it would forward the bearer token.
        redirect: "manual",
      });
      const outcome = classifyStatus(response.status);
      const hints = throttleHints(response.status, response.headers, now());
      if (outcome === "delivered") {
        const answered = { status: response.status, error: null, credentialRejected: false, hints };
        if (op.readBody) return { ...answered, text: await response.text() };
        await response.body?.cancel();
        return answered;
      }
      const detail = redact(summarizeBody(await readSnippet(response)), secrets());
      const retryAfterMs = retryAfterFromHeaders(response.headers, now(), settings.retryAfterCapMs);
      const error = httpError(response.status, detail, retryAfterMs);
      if (outcome === "auth") error.code = rejectedCode;
      return { status: response.status, error, credentialRejected: outcome === "auth", hints };
    } catch (thrown) {
      const reason = callerSignal?.aborted ? "aborted" : timeout.aborted ? "timeout" : null;
      const error = fetchError(thrown, reason);
      error.message = redact(error.message, secrets());
      return { status: null, error, credentialRejected: false, hints: null };
    }
  }

  async function report(request: Operation, record: AttemptRecord) {
    try {
      await request.onAttempt?.(record);
    } catch {
      // Documented on DynamicsRequest.onAttempt: the hook owns its failures.
    }
  }

  function recordOf(
    attempt: number,
    startedMs: number,
    result: Exchange,
  ): AttemptRecord {
    const finishedMs = now();
    return {
      attempt,
      startedAt: new Date(startedMs),
      finishedAt: new Date(finishedMs),
      durationMs: Math.max(0, finishedMs - startedMs),
      status: result.status,
      outcome: result.error ? result.error.kind : "delivered",
      errorCode: result.error?.code ?? null,
      error: result.error?.message ?? null,
      retryAfterMs: result.error?.retryAfterMs ?? null,
    };
  }

  function updateBreaker(result: Exchange) {
    if (!breaker) return;
    const code = result.error?.code;
    if (code === "aborted") breaker.release();
    else if (isOutage(result)) breaker.recordFailure();
    else breaker.recordSuccess();
  }

  async function perform(request: Operation): Promise<OperationOutcome> {
    const deadline = now() + (request.budgetMs ?? defaultBudgetMs);
    let attempts = 0;
    let retries = 0;
    let refreshedCredential = false;
    let lastError: DeliveryFailure | null = null;
    const fail = (error: DeliveryFailure): OperationOutcome => ({ ok: false, error, attempts });

    const aborted = () =>
      fail(deliveryFailure("retryable", "aborted", "request aborted by caller"));

    while (true) {
      if (request.signal?.aborted) return aborted();
      const acquired = await bucket.acquire({ deadlineMs: deadline, signal: request.signal });
      if (!acquired.ok) {
        if (acquired.reason === "aborted") return aborted();
        // Refused locally, as by the breaker: nothing went out. The wait, when known, says when
        // the window opens again.
        return fail(
          lastError ?? deliveryFailure(
            "retryable",
            "budget_exhausted",
            "time budget exhausted waiting for Dynamics' rate limit",
            { retryAfterMs: acquired.waitMs ?? undefined },
          ),
        );
      }
      const { permit } = acquired;
      if (breaker && !breaker.tryAcquire()) {
        permit.cancel();
        // Refused locally: no request went out, so there is no attempt to count or report (the
        // audit log must match what Dynamics saw).
        return fail(
          deliveryFailure("retryable", "circuit_open", "circuit open: Dynamics failing", {
            retryAfterMs: breaker.remainingCooldownMs(),
          }),
        );
      }
      const credential = await auth.authorize();
      const remainingMs = deadline - now();
      if (!credential.ok || remainingMs <= 0) {
        permit.cancel();
        breaker?.release();
        if (!credential.ok) return fail(credential.error);
        return fail(
          lastError ?? deliveryFailure("retryable", "budget_exhausted", "time budget exhausted"),
        );
      }
      let headers: Record<string, string>;
      try {
        headers = await request.headers({ attempt: attempts + 1, nowMs: now() });
      } catch (error) {
        permit.cancel();
        breaker?.release();
        const message = redact(`building request headers failed: ${error}`, secrets());
        return fail(deliveryFailure("permanent", "headers_failed", message));
      }
      attempts += 1;
      permit.send();
      const startedMs = now();
      const result = await exchange(
        request,
        { ...headers, ...credential.headers },
        Math.min(attemptTimeoutMs, remainingMs),
      );
      permit.settle(result.hints);
      updateBreaker(result);
      await report(request, recordOf(attempts, startedMs, result));
      if (!result.error) {
        return { ok: true, status: result.status!, attempts, text: result.text ?? "" };
      }
      lastError = result.error;

      // A rejected token may just have expired early or been revoked: one fresh token, no backoff.
      if (
        result.credentialRejected && !refreshedCredential && auth.invalidate(credential.credential)
      ) {
        refreshedCredential = true;
        continue;
      }
      if (result.error.kind !== "retryable" || result.error.code === "aborted") {
        return fail(result.error);
      }
      if (retries >= settings.maxRetries) return fail(result.error);
      const delayMs = result.error.retryAfterMs ?? backoffDelay(retries, backoff, random);
      if (now() + delayMs + settings.minAttemptMs > deadline) return fail(result.error);
      await sleep(delayMs);
      retries += 1;
    }
  }

  async function send(request: DynamicsRequest): Promise<SendOutcome> {
    const outcome = await perform({
      method: "POST",
      url: options.webhookUrl,
      body: request.body,
      headers: async (ctx) => ({
        "Content-Type": "application/json",
        ...await request.headers(ctx),
      }),
      onAttempt: request.onAttempt,
      budgetMs: request.budgetMs,
      signal: request.signal,
      readBody: false,
    });
    return outcome.ok ? { ok: true, status: outcome.status, attempts: outcome.attempts } : outcome;
  }

  async function read(request: ReadRequest): Promise<ReadOutcome> {
    const outcome = await perform({
      method: "GET",
      url: request.url,
      headers: () => Promise.resolve({ Accept: "application/json", ...request.headers }),
      budgetMs: request.budgetMs,
      signal: request.signal,
      readBody: true,
    });
    return outcome.ok
      ? { ok: true, status: outcome.status, body: outcome.text, attempts: outcome.attempts }
      : outcome;
  }

  return { send, read, circuitState: () => breaker?.state() ?? null };
}

function abortableSleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise<void>((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    }
    signal?.addEventListener("abort", done, { once: true });
  });
}

/** Signs of an outage (as opposed to Dynamics answering, even with 4xx or 429). */
function isOutage(result: Exchange): boolean {
  if (!result.error || result.error.kind !== "retryable") return false;
  return result.status === null || result.status >= 500;
}

/** The first MAX_BODY_BYTES of a response body as text; the rest is cancelled unread. */
async function readSnippet(response: Response): Promise<string> {
  // A body cut short still has a status worth reporting: what arrived is used either way.
  const { bytes } = await readAtMost(response.body, MAX_BODY_BYTES);
  return new TextDecoder().decode(bytes);
}
