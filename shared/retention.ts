// Retention: prunes audit attempts and inbound ledger rows older than the configured age, one
// bounded batch per transaction (public.prune_sync_history decides what is old and what must stay),
// until a batch comes back short.
import type { Sql } from "./db.ts";

export interface RetentionPolicy {
  maxAgeDays: number;
  batchSize: number;
}

export interface PruneResult {
  attempts: number;
  inbound: number;
  batches: number;
}

export async function pruneHistory(
  sql: Sql,
  policy: RetentionPolicy,
  opts: { maxBatches?: number } = {},
): Promise<PruneResult> {
  const result: PruneResult = { attempts: 0, inbound: 0, batches: 0 };
  const maxBatches = opts.maxBatches ?? Number.POSITIVE_INFINITY;
  while (result.batches < maxBatches) {
    const [batch] = await sql<{ attempts_deleted: number; inbound_deleted: number }[]>`
      select attempts_deleted, inbound_deleted
      from public.prune_sync_history(make_interval(days => ${policy.maxAgeDays}), ${policy.batchSize})`;
    result.batches += 1;
    result.attempts += batch.attempts_deleted;
    result.inbound += batch.inbound_deleted;
    if (batch.attempts_deleted < policy.batchSize && batch.inbound_deleted < policy.batchSize) {
      break;
    }
  }
  return result;
}
