// The configuration's defaults (shared/config.ts is their one home), for tests that build a part by
// hand: it gets the settings production gives it unless the test says otherwise.
import { DEFAULTS, loadConfig } from "../../shared/config.ts";
import type { DynamicsClientOptions } from "../../shared/dynamics/dynamics-client.ts";

export const defaults = loadConfig({}, []);

export const clientSettings: Pick<
  DynamicsClientOptions,
  "retry" | "attemptTimeoutMs" | "budgetMs" | "circuit"
> = {
  retry: defaults.dynamics.retry,
  attemptTimeoutMs: defaults.dynamics.attemptTimeoutMs,
  budgetMs: defaults.dynamics.budgetMs,
  circuit: defaults.dynamics.circuit,
};

/** DYNAMICS_TOKEN_REFRESH_SKEW_SECONDS's default (an outbound setting: no section without URLs). */
export const refreshSkewSeconds = DEFAULTS.DYNAMICS_TOKEN_REFRESH_SKEW_SECONDS;

type Retry = DynamicsClientOptions["retry"];
/** Client options where the configured defaults may be left out, `retry` field by field. */
export type ClientOverrides =
  & Omit<Partial<DynamicsClientOptions>, "retry">
  & Pick<DynamicsClientOptions, "webhookUrl" | "auth">
  & { retry?: Partial<Retry> };

/** `options` over the configured defaults; a partial `retry` keeps the defaults of what it omits. */
export function withClientDefaults(options: ClientOverrides): DynamicsClientOptions {
  return { ...clientSettings, ...options, retry: { ...clientSettings.retry, ...options.retry } };
}
