// Runs the pg-boss peer (bench/pgboss-peer.ts) in a Node process of its own and talks to it over
// the IPC channel: start it, hand it the jobs to enqueue, stop it and read its counters and CPU.
import { fork } from "node:child_process";
import { fileURLToPath } from "node:url";
import type { PeerCounters, PeerSettings, RemovalJob } from "./pgboss-peer.ts";
import type { OutboundConfig } from "../shared/config.ts";

export interface PeerStartOptions {
  databaseUrl: string;
  outbound: OutboundConfig;
  settings: PeerSettings;
}

export type PeerRequest =
  | { type: "start"; options: PeerStartOptions }
  | { type: "enqueue"; jobs: RemovalJob[] }
  | { type: "stop" };

export type PeerReply =
  | { type: "started"; cpuMs: number }
  /** When the insert was sent and when it committed (epoch ms). */
  | { type: "enqueued"; startedAt: number; committedAt: number }
  | { type: "stopped"; counters: PeerCounters | null; cpuMs: number }
  | { type: "error"; message: string; fatal?: boolean };

export interface PeerProcess {
  /** The process's CPU (ms) once pg-boss had started. */
  startedCpuMs: number;
  /** Resolves when the insert committed. */
  enqueue(jobs: RemovalJob[]): Promise<{ startedAt: number; committedAt: number }>;
  /** Stops pg-boss and the process; its counters and total CPU (ms). */
  stop(): Promise<{ counters: PeerCounters | null; cpuMs: number }>;
  kill(): void;
}

const MAIN = fileURLToPath(new URL("./pgboss-peer-main.ts", import.meta.url));

export async function forkPeer(
  options: PeerStartOptions,
  onError: (message: string) => void,
): Promise<PeerProcess> {
  const child = fork(MAIN, [], { execArgv: ["--import", "tsx"], stdio: "inherit" });
  const pending: ((reply: PeerReply) => void)[] = [];
  const failed = (message: string) => {
    for (const settle of pending.splice(0)) settle({ type: "error", message, fatal: true });
  };
  child.on("message", (reply: PeerReply) => {
    if (reply.type === "error" && !reply.fatal) return onError(reply.message);
    pending.shift()?.(reply);
  });
  child.once("exit", (code) => failed(`the peer process exited with code ${code}`));

  async function ask<T extends PeerReply["type"]>(
    request: PeerRequest,
    expected: T,
  ): Promise<Extract<PeerReply, { type: T }>> {
    const reply = await new Promise<PeerReply>((resolve) => {
      pending.push(resolve);
      child.send(request);
    });
    if (reply.type !== expected) {
      throw new Error(`peer: ${reply.type === "error" ? reply.message : reply.type}`);
    }
    return reply as Extract<PeerReply, { type: T }>;
  }

  const started = await ask({ type: "start", options }, "started");
  return {
    startedCpuMs: started.cpuMs,
    enqueue: (jobs) => ask({ type: "enqueue", jobs }, "enqueued"),
    stop: () => ask({ type: "stop" }, "stopped"),
    kill: () => child.kill("SIGKILL"),
  };
}
