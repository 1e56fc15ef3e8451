// A typed client for the sandbox's control API, for tests, benchmarks and scripts.
import type { ConfigPatch, publicConfig } from "./control.ts";
import type { DeliveryRecord } from "./deliveries.ts";
import type { FaultSpec } from "./faults.ts";
import type { AppliedEvent, Counters, ListingRecord } from "./state.ts";
import type { Listing } from "../../shared/contract/vocabulary.ts";

export interface SandboxControl {
  faults(faults: FaultSpec | FaultSpec[]): Promise<void>;
  /** `millisecondHint`: 429s also say the wait in ms (not a Dataverse header; see control.ts). */
  throttle(limit: number, windowMs: number, opts?: { millisecondHint?: boolean }): Promise<void>;
  clearThrottle(): Promise<void>;
  config(patch: ConfigPatch): Promise<ReturnType<typeof publicConfig>>;
  reset(): Promise<void>;
  expireTokens(): Promise<number>;
  listings(): Promise<ListingRecord[]>;
  /** null when the sandbox has no listing for the mentor. */
  listing(mentorId: string): Promise<ListingRecord | null>;
  /** Sets a listing by hand, as a portal editor would. */
  setListing(mentorId: string, listing: Listing): Promise<ListingRecord>;
  events(): Promise<AppliedEvent[]>;
  /** The latest requests to the webhook receiver, oldest first. */
  deliveries(): Promise<DeliveryRecord[]>;
  counters(): Promise<Counters>;
}

export function sandboxControl(baseUrl: string, doFetch: typeof fetch = fetch): SandboxControl {
  async function call<T>(method: string, path: string, body?: unknown): Promise<T> {
    const response = await doFetch(`${baseUrl}/__control${path}`, {
      method,
      headers: body === undefined ? {} : { "Content-Type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    if (!response.ok) {
      throw new Error(`${method} /__control${path} answered ${response.status}: ${text}`);
    }
    return JSON.parse(text) as T;
  }

  return {
    faults: async (faults) => void await call("POST", "/faults", faults),
    throttle: async (limit, windowMs, opts = {}) =>
      void await call("POST", "/throttle", { limit, windowMs, ...opts }),
    clearThrottle: async () => void await call("DELETE", "/throttle"),
    config: (patch) => call("POST", "/config", patch),
    reset: async () => void await call("POST", "/reset"),
    expireTokens: async () => (await call<{ expired: number }>("POST", "/tokens/expire")).expired,
    listings: async () => (await call<{ listings: ListingRecord[] }>("GET", "/listings")).listings,
    async listing(mentorId) {
      const response = await doFetch(
        `${baseUrl}/__control/listings/${encodeURIComponent(mentorId)}`,
      );
      if (response.status === 404) {
        await response.body?.cancel();
        return null;
      }
      if (!response.ok) throw new Error(`GET listing answered ${response.status}`);
      return await response.json() as ListingRecord;
    },
    setListing: (mentorId, listing) =>
      call("PUT", `/listings/${encodeURIComponent(mentorId)}`, { listing }),
    events: async () => (await call<{ events: AppliedEvent[] }>("GET", "/events")).events,
    deliveries: async () =>
      (await call<{ deliveries: DeliveryRecord[] }>("GET", "/deliveries")).deliveries,
    counters: () => call("GET", "/counters"),
  };
}
