// A scripted `fetch` for unit tests: every call is recorded and answered by a handler, which may
// throw (network failure) or wait on the request's signal (a hang the caller must time out).

export interface RecordedRequest {
  url: string;
  method: string;
  headers: Headers;
  body: string;
  signal: AbortSignal | null;
  redirect: RequestRedirect | undefined;
}

export type FakeFetch = typeof fetch & { calls: RecordedRequest[] };

export function fakeFetch(
  handler: (request: RecordedRequest, index: number) => Response | Promise<Response>,
): FakeFetch {
  const calls: RecordedRequest[] = [];
  const fake = async (input: RequestInfo | URL, init: RequestInit = {}) => {
    const request: RecordedRequest = {
      url: String(input instanceof Request ? input.url : input),
      method: init.method ?? "GET",
      headers: new Headers(init.headers),
      body: typeof init.body === "string" ? init.body : "",
      signal: init.signal ?? null,
      redirect: init.redirect,
    };
    calls.push(request);
    return await handler(request, calls.length - 1);
  };
  return Object.assign(fake, { calls }) as FakeFetch;
}

export function json(body: unknown, status = 200, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { "Content-Type": "application/json", ...headers },
  });
}

/** Never answers; rejects with the signal's reason once the caller aborts. */
export function hangUntilAborted(request: RecordedRequest): Promise<Response> {
  return new Promise((_, reject) => {
    const signal = request.signal;
    if (!signal) return;
    if (signal.aborted) reject(signal.reason);
    signal.addEventListener("abort", () => reject(signal.reason), { once: true });
  });
}

/** A `fetch failed` TypeError as undici throws for a reset connection. */
export function networkFailure(code = "ECONNRESET"): TypeError {
  return new TypeError("fetch failed", {
    cause: Object.assign(new Error("socket hang up"), { code }),
  });
}
