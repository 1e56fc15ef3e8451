// Reconciliation (anti-entropy): reads the portal's listings page by page as Dataverse serves them
// (OData, `Prefer: odata.maxpagesize`, `@odata.nextLink`, `$select`, in mentor id order) and lets
// the database compare each page with mentor_listing_state and enqueue corrective events
// (reconcile_listings_page). A run that outlasts one invocation's budget (time or pages) hands its
// lease back and the next invocation resumes at the stored next link.
import { z } from "zod";
import type { Sql } from "./db.ts";
import type { DynamicsClient } from "./dynamics/dynamics-client.ts";
import type { Logger } from "./logger.ts";
import { Uuid } from "./contract/validation.ts";
import { Listing } from "./contract/vocabulary.ts";
import type { ReconcileRun } from "./contract/api.ts";

export interface ReconcileOptions {
  sql: Sql;
  client: DynamicsClient;
  log: Logger;
  listingsUrl: string;
  pageSize: number;
  budgetMs: number;
  maxPages: number;
  now?: () => number;
}

export type ReconcileOutcome =
  | { kind: "busy" }
  | { kind: "ran"; run: ReconcileRun };

const SELECT = "hlf_mentorid,hlf_listing,hlf_lasteventid";

const ListingsPage = z.object({
  value: z.array(z.object({
    hlf_mentorid: Uuid,
    hlf_listing: Listing,
  })),
  "@odata.nextLink": z.url().optional(),
});
type ListingsPage = z.infer<typeof ListingsPage>;

/** Where a run resumes (the cursor), as begin_reconcile_run returns it. */
interface RunCursor {
  id: string;
  next_link: string | null;
  last_mentor_id: string | null;
}

/**
 * A run as the API shows it, selected from a sync_reconcile_runs row: every column but the cursor
 * and the lease (lease_until never leaves the database). id is a bigint; runs stay far below 2^53.
 */
const runAsShown = (sql: Sql) =>
  sql`id::float8 as "runId", status, to_json(started_at) as "startedAt",
    to_json(finished_at) as "finishedAt",
    invocations, pages, requests, checked, drift, enqueued, unknown, in_flight as "inFlight", error`;

/** The first page's URL: the columns we compare, in the order the range comparison relies on. */
export function firstPageUrl(listingsUrl: string): string {
  const url = new URL(listingsUrl);
  const join = url.search ? "&" : "?";
  return `${url}${join}$select=${SELECT}&$orderby=hlf_mentorid`;
}

/** Why a page cannot be compared (rows out of id order, or behind the cursor), or null. */
export function pageOrderProblem(page: ListingsPage, after: string | null): string | null {
  let previous = after;
  for (const row of page.value) {
    const id = row.hlf_mentorid.toLowerCase();
    if (previous !== null && id <= previous) {
      return "the portal did not return listings in mentor id order";
    }
    previous = id;
  }
  if (page["@odata.nextLink"] && page.value.length === 0) {
    return "the portal returned an empty page with a next link";
  }
  return null;
}

// A page read must leave time to record it before the lease (budget + this) runs out.
const LEASE_MARGIN_SECONDS = 30;

export async function reconcileListings(o: ReconcileOptions): Promise<ReconcileOutcome> {
  const now = o.now ?? Date.now;
  const { sql } = o;
  const deadline = now() + o.budgetMs;
  const leaseSeconds = Math.ceil(o.budgetMs / 1000) + LEASE_MARGIN_SECONDS;
  const [begun] = await sql<RunCursor[]>`
    select id, next_link, last_mentor_id from public.begin_reconcile_run(${leaseSeconds})`;
  if (!begun) return { kind: "busy" };

  const runId = begun.id;
  let url = begun.next_link ?? firstPageUrl(o.listingsUrl);
  let after = begun.last_mentor_id;
  let pages = 0;
  const finish = async (error: string | null, requests: number) => {
    const [run] = await sql<ReconcileRun[]>`
      select ${runAsShown(sql)} from public.finish_reconcile_run(${runId}, ${error}, ${requests})`;
    if (error) o.log.warn("reconciliation failed", { runId: run.runId, error });
    return { kind: "ran" as const, run };
  };

  while (true) {
    if (pages >= o.maxPages || deadline - now() <= 0) {
      const [run] = await sql<ReconcileRun[]>`
        select ${runAsShown(sql)} from public.release_reconcile_run(${runId}, 0)`;
      return { kind: "ran", run };
    }
    const read = await o.client.read({
      url,
      headers: {
        Prefer: `odata.maxpagesize=${o.pageSize}`,
        "OData-Version": "4.0",
        "OData-MaxVersion": "4.0",
      },
      budgetMs: deadline - now(),
    });
    if (!read.ok) return await finish(`${read.error.code}: ${read.error.message}`, read.attempts);
    let page: ListingsPage;
    try {
      page = ListingsPage.parse(JSON.parse(read.body));
    } catch {
      return await finish(
        "invalid_page: the listings page is not the expected OData shape",
        read.attempts,
      );
    }
    const problem = pageOrderProblem(page, after);
    if (problem) return await finish(`invalid_page: ${problem}`, read.attempts);
    const next = page["@odata.nextLink"] ?? null;
    // The last page covers everything after the cursor; any other page ends at its last row.
    const through = next ? page.value[page.value.length - 1].hlf_mentorid.toLowerCase() : null;
    const rows = page.value.map((r) => ({ mentorId: r.hlf_mentorid, listing: r.hlf_listing }));
    await sql`
      select 1 from public.reconcile_listings_page(${runId}, ${sql.json(rows)}::jsonb,
        ${after}::uuid, ${through}::uuid, ${next}, ${read.attempts})`;
    pages += 1;
    after = through;
    if (next === null) return await finish(null, 0);
    url = next;
  }
}
