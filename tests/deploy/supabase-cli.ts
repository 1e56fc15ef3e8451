// The real Supabase CLI from npm (`supabase`, a devDependency: the binary ships inside the package),
// pointed at loopback stand-ins: a profile file names the Management API, and a database URL takes
// the place of a linked project. No Docker, no network.
import { spawn } from "node:child_process";
import { once } from "node:events";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

export const REPO_ROOT = fileURLToPath(new URL("../../", import.meta.url));
const CLI = join(REPO_ROOT, "node_modules", ".bin", "supabase");

/** Any `sbp_` + 40 hex characters is a well-formed access token; the stand-in accepts all. */
const ACCESS_TOKEN = `sbp_${"0".repeat(40)}`;

export interface CliResult {
  code: number;
  output: string;
}

export async function runSupabase(args: string[], workDir = REPO_ROOT): Promise<CliResult> {
  const child = spawn(CLI, [...args, "--workdir", workDir, "--yes", "--agent", "no"], {
    cwd: workDir,
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      SUPABASE_ACCESS_TOKEN: ACCESS_TOKEN,
      NO_COLOR: "1",
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout.on("data", (d) => (output += d));
  child.stderr.on("data", (d) => (output += d));
  const [code] = (await once(child, "exit")) as [number];
  return { code, output };
}

/** `supabase functions deploy --use-api` of every function to the stand-in at `apiUrl`. */
export async function deployFunctions(
  opts: { apiUrl: string; projectRef: string; profileDir: string },
): Promise<CliResult> {
  const profile = join(opts.profileDir, "profile.yaml");
  await writeFile(
    profile,
    [
      "name: loopback-stand-in",
      `api_url: ${opts.apiUrl}`,
      `dashboard_url: ${opts.apiUrl}`,
      "project_host: supabase.co",
      "",
    ].join("\n"),
  );
  return runSupabase([
    "functions",
    "deploy",
    "--use-api",
    `--remote=${opts.projectRef}`,
    "--profile",
    profile,
  ]);
}

/** `supabase db push` of `supabase/migrations` to the database at `dbUrl`. */
export function dbPush(dbUrl: string): Promise<CliResult> {
  return runSupabase(["db", "push", `--remote=${dbUrl}`]);
}
