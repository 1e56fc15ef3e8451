// The shape every scenario has, and the small waiting helpers they share.
import type { Figure } from "./results.ts";
import type { SandboxHandle } from "../local/stack.ts";

export interface ScenarioContext {
  /** Admin URL of the Postgres server; undefined = embedded PGlite. */
  adminUrl: string | undefined;
  /** Tiny sizes (CI): checks the machinery, not the figures. */
  smoke: boolean;
  progress: (line: string) => void;
}

export interface Scenario {
  name: string;
  run(ctx: ScenarioContext): Promise<Figure[]>;
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * How often a run polls the sandbox for completion. A check walks every mentor of the run (10,000),
 * and the bench's process shares the cores with what is measured; the figures come from the
 * sandbox's own timestamps, so a coarser poll only ends the run a little later.
 */
export const COMPLETION_POLL_MS = 100;

/** Polls `check` every `everyMs` until it is true; false when `timeoutMs` ran out. */
export async function waitFor(
  check: () => boolean,
  { timeoutMs, everyMs = 1 }: { timeoutMs: number; everyMs?: number },
): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) return false;
    await sleep(everyMs);
  }
  return true;
}

/** Mentors of `mentorIds` the sandbox currently lists as unlisted. */
export function unlistedCount(sandbox: SandboxHandle, mentorIds: readonly string[]): number {
  let n = 0;
  for (const id of mentorIds) if (sandbox.state.listings.get(id)?.listing === "unlisted") n += 1;
  return n;
}

/** When the sandbox applied the latest removal among `mentorIds` (epoch ms), or NaN. */
export function lastRemovalAt(sandbox: SandboxHandle, mentorIds: readonly string[]): number {
  const wanted = new Set(mentorIds);
  let last = Number.NaN;
  for (const e of sandbox.state.events) {
    if (e.eventType !== "certification.expired" || !wanted.has(e.mentorId)) continue;
    const at = Date.parse(e.receivedAt);
    if (!(at <= last)) last = at;
  }
  return last;
}
