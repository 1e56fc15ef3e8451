// The deployed shape for the bench: a function runs as its own Deno process from its entrypoint and
// the functions' import map (what the Supabase CLI uploads), with only the environment hosted
// Supabase gives it plus the operator's secrets: no local gateway, no local profile.
import { randomBytes } from "node:crypto";
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import type { Upload } from "../tests/deploy/management-api-stand-in.ts";
import { type DeployedFunction, startDeployedFunction } from "../tests/deploy/deployed-function.ts";
import { REPO_ROOT } from "../tests/deploy/supabase-cli.ts";
import type { Stack } from "../local/stack.ts";
import type { MemoryInUse } from "../shared/memory.ts";
import { countLogLine } from "./bench-stack.ts";
import { callSyncRetry } from "./mass-dispatch.ts";

// The npm packages the uploaded files name, fetched once from the registry and kept between runs
// (a fresh DENO_DIR per run would spend most of a smoke run downloading).
const DENO_DIR = join(REPO_ROOT, "node_modules", ".cache", "bench-deno-dir");

/**
 * Fresh secrets for the stack and the function: a deployed function refuses the local profile's
 * published ones.
 */
export function freshSecrets(): Record<string, string> {
  const secret = () => randomBytes(24).toString("base64url");
  return {
    SUPABASE_SECRET_KEYS: JSON.stringify({ default: `sb_secret_${secret()}` }),
    DYNAMICS_CLIENT_SECRET: secret(),
    DYNAMICS_SIGNING_SECRET: secret(),
    DYNAMICS_INBOUND_SECRETS: secret(),
  };
}

/** What hosted Supabase injects plus the secrets an operator sets, from the bench stack's values. */
export function deployedEnv(
  stack: Stack,
  settings: Record<string, string>,
): Record<string, string> {
  const operatorSet = Object.entries(stack.gatewayEnv).filter(([name, value]) =>
    value !== undefined && /^DYNAMICS_/.test(name)
  ) as [string, string][];
  return {
    SUPABASE_URL: stack.gatewayUrl,
    SUPABASE_DB_URL: stack.databaseUrl,
    SUPABASE_SECRET_KEYS: JSON.stringify({ default: stack.secretKey }),
    ...Object.fromEntries(operatorSet),
    LOG_LEVEL: "info",
    ...settings,
  };
}

/** What the CLI uploads for a function, named in place: its entrypoint and import map. */
export const fromRepository = (slug: string): Upload => ({
  slug,
  metadata: {
    entrypoint_path: `functions/${slug}/index.ts`,
    import_map_path: "functions/deno.json",
  },
  files: [],
  dir: REPO_ROOT,
});

/** Starts `upload` as its own process with `env`; the caller stops it. */
export async function startInDeployedShape(
  upload: Upload,
  env: Record<string, string>,
): Promise<DeployedFunction> {
  await mkdir(DENO_DIR, { recursive: true });
  return await startDeployedFunction(upload, { env, denoDir: DENO_DIR });
}

/** What a deployed sync-retry's own "sync sweep" log lines say its heap held after each sweep. */
export function sweptMemory(output: string): MemoryInUse[] {
  return output.split("\n")
    .filter((line) => line.includes('"msg":"sync sweep"'))
    .map((line) => JSON.parse(line) as MemoryInUse);
}

/** A mass expiry's dispatch as deployed: sync-retry, and dynamics-webhook for the callbacks. */
export interface DeployedDispatch {
  /** One sync-retry invocation; returns how many events it claimed. */
  sweep(): Promise<number>;
  /** The functions' processes: sync-retry's, then dynamics-webhook's when the callbacks are on. */
  pids: number[];
  /** Their log lines so far, by level and message. */
  logLines(): Record<string, number>;
  stop(): Promise<void>;
}

/**
 * Starts sync-retry and (with `callbacks`) dynamics-webhook each in the deployed shape, the
 * sandbox's `listing.confirmed` callbacks sent straight to the latter, as Dynamics would call the
 * function's URL; without `callbacks` the sandbox sends none. The stack's scheduler should be off:
 * it would call the gateway's sync-retry.
 */
export async function startDeployedDispatch(
  stack: Stack,
  settings: Record<string, string>,
  o: { callbacks: boolean },
): Promise<DeployedDispatch> {
  const env = deployedEnv(stack, settings);
  const slugs = o.callbacks ? ["sync-retry", "dynamics-webhook"] : ["sync-retry"];
  const started: DeployedFunction[] = [];
  try {
    for (const slug of slugs) started.push(await startInDeployedShape(fromRepository(slug), env));
  } catch (err) {
    await Promise.all(started.map((f) => f.stop()));
    throw err;
  }
  const [syncRetry, webhook] = started;
  stack.sandbox!.state.config.callbackUrl = webhook?.url ?? null;
  return {
    sweep: async () => (await callSyncRetry(syncRetry.url, { apikey: stack.secretKey })).claimed,
    pids: started.map((f) => f.pid),
    logLines() {
      const counts: Record<string, number> = {};
      for (const f of started) {
        for (const line of f.output().split("\n")) countLogLine(counts, line);
      }
      return counts;
    },
    async stop() {
      await Promise.all(started.map((f) => f.stop()));
    },
  };
}
