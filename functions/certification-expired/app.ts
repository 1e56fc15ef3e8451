import type { Runtime } from "../../shared/runtime.ts";
import { createSyncEndpoint } from "../_shared/sync-endpoint.ts";
import type { Need } from "../../shared/config.ts";

/** What this function uses; nothing else has to be configured for it. */
export const needs: readonly Need[] = ["database", "callers", "outbound"];

export function createApp(rt: Runtime) {
  return createSyncEndpoint("certification-expired", "certification.expired", rt);
}
