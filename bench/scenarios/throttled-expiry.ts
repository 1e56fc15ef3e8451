// Scenario 3: a mass expiry against a Dataverse-style throttle (a fixed budget of requests per
// window, 429 + Retry-After beyond it); the figure is how close the makespan comes to the ideal
// events / rate. Dataverse's 6,000 requests / 5 min is scaled to 200 / 5 s (40/s, 2,400 events:
// one minute): below what the stack delivers unthrottled on the 2-core machine, so the throttle is
// what limits the run (at 170/s it never engaged - see BENCHMARKS.md).
import { sandboxControl } from "../../local/dynamics-sandbox/control-client.ts";
import { startBenchStack } from "../bench-stack.ts";
import { runMassDispatch } from "../mass-dispatch.ts";
import { atMost, exactly, type Figure, figure, note } from "../results.ts";
import type { Scenario, ScenarioContext } from "../scenario.ts";
import { callbacksNote, dispatchSettings, settingsNote } from "./mass-expiry.ts";

const NAME = "3 throttled mass expiry";

export const throttledExpiry: Scenario = {
  name: NAME,
  async run(ctx: ScenarioContext): Promise<Figure[]> {
    const { count, limit, windowMs } = ctx.smoke
      ? { count: 200, limit: 50, windowMs: 500 }
      : { count: 2_400, limit: 200, windowMs: 5_000 };
    const ratePerSecond = limit / (windowMs / 1000);
    const idealMs = (count / ratePerSecond) * 1000;
    const timeoutMs = idealMs * 3;
    const settings = dispatchSettings(ctx.adminUrl ? "postgres" : "pglite");
    const bench = await startBenchStack({ adminUrl: ctx.adminUrl, env: settings.env });
    try {
      const sandbox = bench.stack.sandbox!;
      await sandboxControl(sandbox.url).throttle(limit, windowMs);
      const r = await runMassDispatch(bench.stack, {
        count,
        dispatchers: settings.dispatchers,
        timeoutMs,
        progress: ctx.progress,
      });
      return [
        figure(NAME, "makespan", r.makespanMs / 1000, " s"),
        figure(NAME, "ideal (events / rate)", idealMs / 1000, " s"),
        r.undelivered === 0
          ? figure(NAME, "makespan / ideal", r.makespanMs / idealMs, "", atMost(1.1))
          : figure(
            NAME,
            "makespan / ideal (timed out, at least)",
            timeoutMs / idealMs,
            "",
            atMost(1.1),
          ),
        figure(NAME, "429s seen", sandbox.state.counters.throttled, ""),
        figure(NAME, "undelivered at the end", r.undelivered, ""),
        figure(NAME, "events lost", r.lost, "", exactly(0)),
        figure(NAME, "dead letters", r.deadLetters, "", exactly(0)),
        figure(NAME, "events needing a 2nd round", r.rescheduled, ""),
        note(NAME, "attempt outcomes", r.attemptOutcomes),
        note(NAME, "confirmation callbacks", callbacksNote(sandbox)),
        note(
          NAME,
          "settings",
          `${count} events, throttle ${limit} per ${windowMs} ms; ${settingsNote(settings)}`,
        ),
      ];
    } finally {
      await bench.close();
    }
  },
};
