// After applying a change, Dynamics tells our `dynamics-webhook` function: a signed
// `listing.confirmed` event, fire-and-forget with a few bounded retries. Failures are counted,
// never thrown: the sandbox must keep serving whatever the callback target does.
import { backoffDelay } from "../../shared/dynamics/backoff.ts";
import type { ListingConfirmedV1 } from "../../shared/contract/inbound.ts";
import { createHttpPost, type Post } from "./http-post.ts";
import { signedHeaders } from "./signatures.ts";
import type { AppliedEvent, SandboxState } from "./state.ts";
import { wait } from "./wait.ts";

export interface CallbackOptions {
  state: SandboxState;
  /** Default: node:http on kept-alive sockets (see http-post.ts). */
  post?: Post;
  now?: () => number;
  maxAttempts?: number;
  timeoutMs?: number;
  /** Aborts pending callbacks (and their backoff sleeps) when the sandbox stops. */
  shutdown: AbortSignal;
}

export interface CallbackSender {
  notify(event: AppliedEvent): void;
  /** Resolves when every callback started so far has finished. */
  idle(): Promise<void>;
}

const BACKOFF = { baseDelayMs: 100, maxDelayMs: 1000 };

export function listingConfirmed(event: AppliedEvent, nowMs: number): ListingConfirmedV1 {
  return {
    schemaVersion: 1,
    eventId: crypto.randomUUID(),
    eventType: "listing.confirmed",
    occurredAt: new Date(nowMs).toISOString(),
    mentorId: event.mentorId,
    listing: event.listing,
    inReplyTo: event.eventId,
  };
}

export function createCallbackSender(options: CallbackOptions): CallbackSender {
  const now = options.now ?? Date.now;
  const maxAttempts = options.maxAttempts ?? 3;
  const timeoutMs = options.timeoutMs ?? 2000;
  const { state, shutdown } = options;
  // A poster of its own, closed with the sandbox, unless one was given.
  const { post, close } = options.post ? { post: options.post, close: () => {} } : createHttpPost();
  shutdown.addEventListener("abort", close, { once: true });
  const pending = new Set<Promise<void>>();

  async function deliver(url: string, secret: string, event: AppliedEvent): Promise<boolean> {
    const payload = listingConfirmed(event, now());
    const body = JSON.stringify(payload);
    for (let attempt = 0; attempt < maxAttempts && !shutdown.aborted; attempt++) {
      if (attempt > 0) await wait(backoffDelay(attempt - 1, BACKOFF), shutdown);
      state.counters.callbacks.attempts += 1;
      try {
        const headers = signedHeaders({
          id: payload.eventId,
          body,
          secret,
          nowSeconds: now() / 1000,
        });
        const status = await post(url, {
          headers: { "Content-Type": "application/json", ...headers },
          body,
          timeoutMs,
          signal: shutdown,
        });
        if (status >= 200 && status < 300) return true;
      } catch {
        // Network failure or timeout: the next attempt (if any) decides.
      }
    }
    return false;
  }

  return {
    notify(event) {
      const { callbackUrl, callbackSecret } = state.config;
      if (!callbackUrl || !callbackSecret) return;
      const task = deliver(callbackUrl, callbackSecret, event).then((sent) => {
        if (sent) state.counters.callbacks.sent += 1;
        else state.counters.callbacks.failed += 1;
      });
      pending.add(task);
      task.finally(() => pending.delete(task));
    },
    async idle() {
      while (pending.size > 0) await Promise.all([...pending]);
    },
  };
}
