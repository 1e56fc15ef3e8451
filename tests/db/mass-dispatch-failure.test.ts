// Regression: when a bench sweep failed (sync-retry answered 500), runMassDispatch left the error as
// an unhandled rejection that ended the bench process before its scenario could drop its database.
// It now rejects with that error at once, so the scenario's own clean-up runs.
import { expect, it } from "vitest";
import { runMassDispatch } from "../../bench/mass-dispatch.ts";
import type { Stack } from "../../local/stack.ts";
import { useDispatchFixture } from "../reliability/dispatch-harness.ts";

const fixture = useDispatchFixture();

it("rejects with a failed sweep's error instead of leaving it unhandled", async () => {
  const { db, sandbox } = fixture;
  // The parts of a stack a mass dispatch reads; the sweep is the test's own and fails.
  const stack = { sql: db.sql, sandbox, gatewayPid: process.pid } as unknown as Stack;
  let sweeps = 0;
  const run = runMassDispatch(stack, {
    count: 5,
    dispatchers: 2,
    timeoutMs: 600_000,
    progress: () => {},
    sweep: () => {
      sweeps += 1;
      return Promise.reject(new Error("sync-retry answered 500"));
    },
  });
  await expect(run).rejects.toThrow("sync-retry answered 500");
  // Both drivers stopped at their first failure.
  expect(sweeps).toBe(2);
});
