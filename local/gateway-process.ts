// Starts the functions gateway as a Deno child process (the functions run under Deno, as on
// Supabase) and resolves once it reports the port it listens on.
import type { ChildProcess } from "node:child_process";
import { createInterface } from "node:readline";
import { spawnDeno } from "./deno-process.ts";

export interface GatewayProcess {
  port: number;
  url: string;
  child: ChildProcess;
  stop(): Promise<void>;
}

export interface GatewayOptions {
  env: Record<string, string | undefined>;
  /** Receives every line the gateway prints (the functions' JSON logs). */
  onLine?: (line: string) => void;
  startTimeoutMs?: number;
}

export function startGatewayProcess(opts: GatewayOptions): Promise<GatewayProcess> {
  // stdin stays open: the gateway exits when it closes (see --exit-with-parent in gateway.ts).
  const child = spawnDeno("local/gateway.ts", ["--exit-with-parent"], opts.env, [
    "pipe",
    "pipe",
    "pipe",
  ]);
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), 5000);
      await exited;
      clearTimeout(timer);
    }
  };
  const startTimeoutMs = opts.startTimeoutMs ?? 30_000;
  return new Promise((resolve, reject) => {
    const timeout = setTimeout(() => {
      void stop();
      reject(new Error(`the gateway did not start within ${startTimeoutMs} ms`));
    }, startTimeoutMs);
    let stderr = "";
    child.stderr!.on("data", (chunk: Buffer) => {
      stderr = (stderr + chunk.toString()).slice(-4000);
      for (const line of chunk.toString().split("\n")) if (line.trim()) opts.onLine?.(line);
    });
    child.once("exit", (code) => {
      clearTimeout(timeout);
      reject(new Error(`the gateway exited with code ${code} before listening:\n${stderr}`));
    });
    createInterface({ input: child.stdout! }).on("line", (line) => {
      if (line.startsWith('{"event":"gateway_listening"')) {
        clearTimeout(timeout);
        const port = (JSON.parse(line) as { port: number }).port;
        resolve({ port, url: `http://127.0.0.1:${port}`, child, stop });
      } else {
        opts.onLine?.(line);
      }
    });
  });
}
