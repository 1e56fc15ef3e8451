// Bounded logging for events an outsider can trigger at will (rejected webhooks): the first `limit`
// in a window are logged one by one, the rest only counted, and one summary line per window reports
// the count by reason. Supabase keeps about 100 log events per 10 s per function, so a flood of bad
// requests must not crowd out the lines that matter, nor cost a write per request.
import type { LogFields } from "../logger.ts";

export interface LogSamplerOptions {
  /** Writes one individual line. */
  line: (fields: LogFields) => void;
  /** Writes the window's summary: `suppressed` and `suppressed_<reason>` counts. */
  summary: (fields: LogFields) => void;
  limit: number;
  windowMs: number;
  /** The field a line carries the reason in (default `reason`). */
  reasonField?: string;
  now?: () => number;
  /** Closes a window that had suppressed lines even if nothing else arrives. */
  setTimer?: (fn: () => void, ms: number) => void;
}

const unrefTimer = (fn: () => void, ms: number) => {
  const timer = setTimeout(fn, ms) as unknown;
  // Node's timers keep the process alive unless unref'd; Deno's are numbers.
  (timer as { unref?: () => void }).unref?.();
};

/** A logging function taking the event's `reason` (what the summary counts by) and its fields. */
export function createLogSampler(
  o: LogSamplerOptions,
): (reason: string, fields?: LogFields) => void {
  const now = o.now ?? Date.now;
  const setTimer = o.setTimer ?? unrefTimer;
  const reasonField = o.reasonField ?? "reason";
  let windowEnd = -Infinity;
  let logged = 0;
  let suppressed = new Map<string, number>();
  let timerSet = false;

  const close = () => {
    timerSet = false;
    if (suppressed.size === 0) return;
    const counts = [...suppressed];
    suppressed = new Map();
    o.summary({
      suppressed: counts.reduce((sum, [, n]) => sum + n, 0),
      windowMs: o.windowMs,
      ...Object.fromEntries(counts.map(([reason, n]) => [`suppressed_${reason}`, n])),
    });
  };

  return (reason, fields = {}) => {
    const t = now();
    if (t >= windowEnd) {
      close();
      windowEnd = t + o.windowMs;
      logged = 0;
    }
    if (logged < o.limit) {
      logged += 1;
      o.line({ [reasonField]: reason, ...fields });
      return;
    }
    suppressed.set(reason, (suppressed.get(reason) ?? 0) + 1);
    if (!timerSet) {
      timerSet = true;
      setTimer(close, Math.max(0, windowEnd - t));
    }
  };
}
