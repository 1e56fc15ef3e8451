// Values published in the README for the local stack. Anyone can sign with them, so outside the local
// stack (HLF_LOCAL_STACK=true) shared/config.ts refuses each of them as a configuration error; the
// local profile (local/env.ts) takes its values from here, so the two lists cannot drift apart.
export const WELL_KNOWN_LOCAL_SECRETS = {
  JWT_SECRET: "super-secret-jwt-token-with-at-least-32-characters-long",
  SUPABASE_SECRET_KEY: "sb_secret_hlf_local_well_known_service_key",
  DYNAMICS_CLIENT_SECRET: "local-dynamics-client-secret",
  DYNAMICS_SIGNING_SECRET: "local-outbound-signing-secret",
  DYNAMICS_INBOUND_SECRET: "local-inbound-signing-secret",
} as const;

const PUBLISHED: ReadonlySet<string> = new Set(Object.values(WELL_KNOWN_LOCAL_SECRETS));

export function isWellKnownLocalSecret(value: string): boolean {
  return PUBLISHED.has(value);
}
