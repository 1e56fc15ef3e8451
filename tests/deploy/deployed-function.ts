// Runs one function from exactly the files the CLI uploaded, the way Supabase's edge runtime gets
// them: the uploaded Deno config, no node_modules and no package.json (npm: specifiers resolved from
// the registry into a fresh DENO_DIR), only --allow-net and --allow-env, the isolate's heap limited
// as Supabase limits it, and only the environment a deployed function is given. Supabase routes
// `/functions/v1/NAME/...` to the function as `/NAME/...`, so callers use
// `url` = `http://127.0.0.1:PORT/NAME`.
import { spawn } from "node:child_process";
import { once } from "node:events";
import { join } from "node:path";
import { REPO_ROOT } from "./supabase-cli.ts";
import type { Upload } from "./management-api-stand-in.ts";
import { freePort } from "../../local/stack.ts";

const DENO = join(REPO_ROOT, "node_modules", ".bin", "deno");

/**
 * Hosted Supabase's memory limit for a function (MiB). Its edge runtime creates each function's
 * isolate with `heap_limits(0, memory_limit)` (supabase/edge-runtime,
 * crates/base/src/runtime/mod.rs), and V8 sizes both heap generations from that figure exactly as
 * it does for `--max-heap-size` (`Heap::ConfigureHeap`). A plain `deno run` sizes the heap from the
 * machine's memory instead (4 GiB here): a young generation several times larger, and a peak RSS
 * no deployed function has.
 */
export const SUPABASE_FUNCTION_MEMORY_MIB = 256;

/** The `deno run` flag that gives an isolate that heap. */
export const SUPABASE_HEAP_FLAG = `--v8-flags=--max-heap-size=${SUPABASE_FUNCTION_MEMORY_MIB}`;

export interface DeployedFunction {
  url: string;
  /** The Deno process serving it (the bench reads its CPU time and peak RSS from /proc). */
  pid: number;
  /** Everything the function printed (its JSON log lines), for assertions on logging. */
  output(): string;
  stop(): Promise<void>;
}

/**
 * The machine's own trust store, for fetching npm packages into DENO_DIR (this machine reaches the
 * registry through a proxy with its own CA, which npm trusts through NODE_EXTRA_CA_CERTS). Not part
 * of what a function is given: Supabase's bundler fetches packages itself.
 */
function registryTrust(): Record<string, string> {
  const pass = [
    "SSL_CERT_FILE",
    "SSL_CERT_DIR",
    "HTTPS_PROXY",
    "https_proxy",
    "NO_PROXY",
    "no_proxy",
  ]
    .filter((name) => process.env[name]);
  return {
    DENO_TLS_CA_STORE: "system,mozilla",
    ...Object.fromEntries(pass.map((name) => [name, process.env[name]!])),
  };
}

export async function startDeployedFunction(
  upload: Upload,
  opts: {
    env: Record<string, string>;
    denoDir: string;
    readyTimeoutMs?: number;
    /** Extra `deno run` flags (profiling: --cpu-prof). */
    denoFlags?: string[];
  },
): Promise<DeployedFunction> {
  const port = await freePort();
  const { entrypoint_path, import_map_path } = upload.metadata;
  const child = spawn(
    DENO,
    [
      "run",
      "--allow-net",
      "--allow-env",
      SUPABASE_HEAP_FLAG,
      ...(opts.denoFlags ?? []),
      ...(import_map_path ? ["--config", import_map_path] : []),
      entrypoint_path,
    ],
    {
      cwd: upload.dir,
      env: {
        ...opts.env,
        ...registryTrust(),
        DENO_DIR: opts.denoDir,
        DENO_NO_PACKAGE_JSON: "1",
        DENO_NO_UPDATE_CHECK: "1",
        DENO_SERVE_ADDRESS: `tcp:127.0.0.1:${port}`,
        NO_COLOR: "1",
      },
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  let output = "";
  child.stdout.on("data", (d) => (output += d));
  child.stderr.on("data", (d) => (output += d));
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill("SIGTERM");
    await once(child, "exit");
  };
  const url = `http://127.0.0.1:${port}/${upload.slug}`;
  const deadline = Date.now() + (opts.readyTimeoutMs ?? 120_000);
  for (;;) {
    if (child.exitCode !== null) {
      throw new Error(`${upload.slug} exited with ${child.exitCode} before serving:\n${output}`);
    }
    try {
      await (await fetch(url, { method: "OPTIONS" })).arrayBuffer();
      break;
    } catch {
      if (Date.now() > deadline) {
        await stop();
        throw new Error(`${upload.slug} did not start serving:\n${output}`);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  return { url, pid: child.pid!, output: () => output, stop };
}
