import type { Runtime } from "../../shared/runtime.ts";
import { createSyncEndpoint } from "../../shared/sync-endpoint.ts";

export function createApp(rt: Runtime) {
  return createSyncEndpoint("certification-renewed", "certification.renewed", rt);
}
