// Spawning this project's Deno programs (the gateway, the dispatcher worker, benchmark servers) with
// the `deno` binary the npm package installed, from the repository root, with the permissions the
// functions get on Supabase: network, environment, reading files, system info.
import { type ChildProcess, spawn, type SpawnOptions } from "node:child_process";
import { fileURLToPath } from "node:url";

export const ROOT = fileURLToPath(new URL("..", import.meta.url));
export const DENO = fileURLToPath(new URL("../node_modules/.bin/deno", import.meta.url));

export function spawnDeno(
  script: string,
  args: readonly string[],
  env: Record<string, string | undefined>,
  stdio: SpawnOptions["stdio"] = ["ignore", "pipe", "pipe"],
  denoFlags: readonly string[] = [],
): ChildProcess {
  return spawn(
    DENO,
    [
      "run",
      "--allow-net",
      "--allow-env",
      "--allow-read",
      "--allow-sys",
      ...denoFlags,
      script,
      ...args,
    ],
    { cwd: ROOT, env: { ...env, NO_COLOR: "1" }, stdio },
  );
}
