// One HTTP attempt as the Dynamics client reports it (`onAttempt`), for tests of what the
// dispatcher records: a 2xx status is delivered, any other a retryable `http_<status>` failure.
import type { AttemptRecord } from "../../shared/dynamics/dynamics-client.ts";

export function attemptRecord(
  o: { attempt?: number; status?: number; durationMs?: number; startedAt?: Date } = {},
): AttemptRecord {
  const status = o.status ?? 204;
  const delivered = status >= 200 && status < 300;
  const startedAt = o.startedAt ?? new Date();
  const durationMs = o.durationMs ?? 12;
  return {
    attempt: o.attempt ?? 1,
    startedAt,
    finishedAt: new Date(startedAt.getTime() + durationMs),
    durationMs,
    status,
    outcome: delivered ? "delivered" : "retryable",
    errorCode: delivered ? null : `http_${status}`,
    error: delivered ? null : "service unavailable",
    retryAfterMs: null,
  };
}
