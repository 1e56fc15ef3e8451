// Runs bench/bare-inbound.ts under Deno on a port chosen here, and waits until it answers.
import { once } from "node:events";
import { spawnDeno } from "../local/deno-process.ts";
import { SUPABASE_HEAP_FLAG } from "../tests/deploy/deployed-function.ts";
import { freePort } from "../local/stack.ts";
import { sleep } from "./scenario.ts";

const START_TIMEOUT_MS = 30_000;

export interface BareServer {
  url: string;
  /** The Deno process serving it (the bench reads its CPU time from /proc). */
  pid: number;
  stop(): Promise<void>;
}

async function answers(url: string): Promise<boolean> {
  try {
    const res = await fetch(url);
    await res.body?.cancel();
    return true;
  } catch {
    return false;
  }
}

export async function startBareServer(
  env: Record<string, string | undefined>,
): Promise<BareServer> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  // The heap a deployed function gets, as the product's function has it in the same run.
  const child = spawnDeno(
    "bench/bare-inbound.ts",
    [`--port=${port}`],
    env,
    ["ignore", "ignore", "inherit"],
    [SUPABASE_HEAP_FLAG],
  );
  const exited = once(child, "exit");
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill("SIGKILL");
    await exited;
  };
  const deadline = Date.now() + START_TIMEOUT_MS;
  while (!(await answers(url))) {
    if (child.exitCode !== null || Date.now() > deadline) {
      await stop();
      throw new Error(`the bare handler did not start (exit code ${child.exitCode})`);
    }
    await sleep(100);
  }
  return { url, pid: child.pid!, stop };
}
