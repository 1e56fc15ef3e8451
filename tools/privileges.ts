// Renders the privilege table of RELIABILITY.md from the catalog of a migrated database: what anon,
// authenticated and service_role may do on every table, view, sequence and function of `public` and
// `private`, with the reason for each object's grants (REASONS below). The table sits between two
// markers in RELIABILITY.md; tests/reliability/privilege-table.test.ts fails when it differs from
// the catalog or an object lacks a reason. `npm run privileges` rewrites it.
import { readFileSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type postgres from "postgres";
import { startPgliteServer } from "../local/db/pglite-server.ts";
import { prepareDatabase } from "../local/db/prepare.ts";
import { withClient } from "../local/db/with-client.ts";

export const ROLES = ["anon", "authenticated", "service_role"] as const;

export interface PrivilegeRow {
  object: string;
  kind: "table" | "view" | "sequence" | "function";
  /** Per role: "ALL", a list such as "SELECT, UPDATE(status)", or "" for nothing. */
  grants: Record<(typeof ROLES)[number], string>;
}

/** Why each object grants what it grants, by object name (functions without their arguments). */
export const REASONS: Record<string, string> = {
  "public.sync_alerts":
    "open and resolved alerts; coordinators read those about their mentors (RLS), operators all",
  "public.sync_control": "the pause switch row: service_role only (pause_sync / resume_sync)",
  "public.sync_delivery_health": "the outage detector's state: service_role only",
  "public.sync_reconcile_runs": "reconciliation runs and their cursor: service_role only",
  "public.sync_resend_requests":
    "who asked for a resend; coordinators read their mentors' (RLS), written by request_sync_resend",
  "public.sync_alerts_id_seq": "identity; only the service and its triggers insert",
  "public.sync_reconcile_runs_id_seq": "identity; only the service inserts",
  "public.sync_resend_requests_id_seq": "identity; only request_sync_resend and the service insert",
  "private.sync_event_is_due": "the outbox's one definition of due, in the dispatchers' queries",
  "private.sync_event_lease_is_free":
    "the outbox's one definition of a free lease, in the dispatchers' queries",
  "private.is_valid_renewal_entry":
    "the renewal-entry rule, run by the history guard as the writing role",
  "public.begin_reconcile_run": "sync-reconcile takes the run's lease",
  "public.evaluate_outage_alert": "the sweep raises or resolves the outage alert",
  "public.finish_reconcile_run": "sync-reconcile records the run's end and drift",
  "public.pause_sync": "operators pause delivery (service_role: the dashboard's SQL editor)",
  "public.prune_sync_history": "the retention job (pg_cron or the local scheduler)",
  "public.reconcile_listings_page": "sync-reconcile compares one page of the portal's listings",
  "public.release_reconcile_run": "sync-reconcile gives its lease back at the end of an invocation",
  "public.request_sync_resend":
    "a coordinator resends a mentor they coordinate (SECURITY DEFINER: it checks the caller itself, once a minute per mentor)",
  "public.resume_sync": "operators resume delivery",
  "public.sync_delivery_paused": "dispatchers read the pause switch",
  "public.sync_health": "sync-health's one statement",
  "public.organisations": "coordinators and mentors read their own organisations (RLS)",
  "public.chapters": "members read their chapters (RLS)",
  "public.chapter_memberships":
    "a user reads their own memberships, a coordinator their chapters' (RLS)",
  "public.peer_mentors":
    "visible mentors readable (RLS); coordinators update only `status` of the mentors they coordinate",
  "public.mentor_chapters":
    "coordinators read their chapters' memberships, a mentor their own (RLS)",
  "public.certifications":
    "visible certifications readable (RLS); coordinators update status, dates and history of their mentors' (RLS, CHECKs, the revocation rule)",
  "public.certification_status_changes":
    "audit trail of status changes: service_role reads it, only a trigger writes it",
  "public.mentor_listing_state": "listing per mentor, readable where the mentor is visible (RLS)",
  "public.sync_events":
    "the outbox, readable where the mentor is visible (RLS); written by triggers and the service",
  "public.mentor_sync_status": "what sync-status shows, readable where the mentor is visible (RLS)",
  "public.dynamics_sync_attempts": "attempt audit, readable where the mentor is visible (RLS)",
  "public.cert_notification_log": "inbound ledger, coordinators of the mentor only (RLS)",
  "public.sync_issues":
    "drift and renewal entries a payload left out, coordinators of the mentor only (RLS)",
  "public.sync_settings": "holds the service key: service_role only, no policy",
  "public.coordinator_sync_overview":
    "dashboard list view, security_invoker (the caller's RLS applies)",
  "public.certification_status_changes_id_seq": "identity of the audit trail; service_role only",
  "public.sync_events_id_seq": "identity; only the service and its triggers insert",
  "public.dynamics_sync_attempts_id_seq": "identity; only the service inserts",
  "public.cert_notification_log_id_seq": "identity; only the service inserts",
  "public.sync_issues_id_seq": "identity; only the service and its triggers insert",
  "public.append_certification_renewal":
    "the app's renewal call; SECURITY INVOKER, so the caller's RLS decides what may be renewed",
  "public.enqueue_sync_event": "the service queues an event (inbound drift, resends)",
  "public.enqueue_sync_events": "the same, for many mentors in one statement",
  "public.expire_due_certifications": "the nightly job (pg_cron or the local scheduler)",
  "public.invoke_sync_function": "nudges a function through pg_net; reads the service key",
  "private.coordinated_chapter_ids": "RLS helper, called by policies as the caller",
  "private.member_chapter_ids": "RLS helper, called by policies as the caller",
  "private.member_organisation_ids": "RLS helper, called by policies as the caller",
  "private.is_own_mentor": "RLS helper, called by policies as the caller",
  "private.can_coordinate_mentor": "RLS helper, called by policies as the caller",
  "private.can_view_mentor": "RLS helper, called by policies as the caller",
  "private.viewable_mentor_ids": "list mode drives from the caller's visible mentors",
  "private.is_iso_timestamp": "CHECK constraint on certifications, run as the writing role",
  "private.is_valid_renewal_history": "CHECK constraint on certifications, run as the writing role",
};

const TABLE_PRIVILEGES = [
  "SELECT",
  "INSERT",
  "UPDATE",
  "DELETE",
  "TRUNCATE",
  "REFERENCES",
  "TRIGGER",
];
const COLUMN_PRIVILEGES = ["SELECT", "INSERT", "UPDATE", "REFERENCES"];
const SEQUENCE_PRIVILEGES = ["USAGE", "SELECT", "UPDATE"];

interface CatalogRow {
  object: string;
  kind: PrivilegeRow["kind"];
  role: string;
  privilege: string;
  columns: string[] | null;
}

/** Every privilege an API role holds (directly, through PUBLIC or a granted role), one per row. */
export async function readPrivileges(sql: postgres.Sql): Promise<PrivilegeRow[]> {
  const rows = await sql<CatalogRow[]>`
    with roles as (select unnest(${ROLES as unknown as string[]}::text[]) as role),
    relations as (
      select c.oid, format('%s.%s', n.nspname, c.relname) as object,
             case c.relkind when 'S' then 'sequence' when 'v' then 'view' else 'table' end as kind
        from pg_class c join pg_namespace n on n.oid = c.relnamespace
       where n.nspname in ('public', 'private') and c.relkind in ('r', 'p', 'v', 'S')
    )
    select r.object, r.kind, roles.role, p.privilege, null::text[] as columns
      from relations r cross join roles
      cross join lateral unnest(case when r.kind = 'sequence' then ${SEQUENCE_PRIVILEGES}::text[]
                                     else ${TABLE_PRIVILEGES}::text[] end) as p(privilege)
     where case when r.kind = 'sequence' then has_sequence_privilege(roles.role, r.oid, p.privilege)
                else has_table_privilege(roles.role, r.oid, p.privilege) end
    union all
    select r.object, r.kind, roles.role, p.privilege,
           array_agg(a.attname::text order by a.attnum)
      from relations r cross join roles
      cross join unnest(${COLUMN_PRIVILEGES}::text[]) as p(privilege)
      join pg_attribute a on a.attrelid = r.oid and a.attnum > 0 and not a.attisdropped
     where r.kind <> 'sequence'
       and not has_table_privilege(roles.role, r.oid, p.privilege)
       and has_column_privilege(roles.role, r.oid, a.attnum, p.privilege)
     group by r.object, r.kind, roles.role, p.privilege
    union all
    select format('%s.%s', n.nspname, f.proname), 'function', roles.role, 'EXECUTE', null
      from pg_proc f join pg_namespace n on n.oid = f.pronamespace cross join roles
     where n.nspname in ('public', 'private')
       and has_function_privilege(roles.role, f.oid, 'EXECUTE')
  `;
  // Each cell in a fixed order: table-level privileges as listed above, then column grants.
  const order = [...TABLE_PRIVILEGES, ...SEQUENCE_PRIVILEGES, "EXECUTE"];
  const rank = (r: CatalogRow) => order.indexOf(r.privilege) + (r.columns ? order.length : 0);
  rows.sort((a, b) => rank(a) - rank(b));
  const byObject = new Map<string, { kind: PrivilegeRow["kind"]; grants: Map<string, string[]> }>();
  for (const r of rows) {
    const entry = byObject.get(r.object) ?? { kind: r.kind, grants: new Map() };
    byObject.set(r.object, entry);
    const list = entry.grants.get(r.role) ?? [];
    entry.grants.set(r.role, list);
    list.push(r.columns ? `${r.privilege}(${r.columns.join(", ")})` : r.privilege);
  }
  const full = (kind: PrivilegeRow["kind"]) =>
    (kind === "sequence" ? SEQUENCE_PRIVILEGES : TABLE_PRIVILEGES)
      .toSorted((a, b) => order.indexOf(a) - order.indexOf(b)).join(", ");
  const kindOrder = ["table", "view", "sequence", "function"];
  return [...byObject.entries()]
    .map(([object, { kind, grants }]) => {
      const cell = (role: string) => {
        const text = (grants.get(role) ?? []).join(", ");
        return kind !== "function" && text === full(kind) ? "ALL" : text;
      };
      return {
        object,
        kind,
        grants: {
          anon: cell("anon"),
          authenticated: cell("authenticated"),
          service_role: cell("service_role"),
        },
      };
    })
    .sort((a, b) =>
      kindOrder.indexOf(a.kind) - kindOrder.indexOf(b.kind) || a.object.localeCompare(b.object)
    );
}

export const MISSING_REASON = "**no reason recorded: add one to REASONS in tools/privileges.ts**";

export function renderPrivilegeTable(rows: PrivilegeRow[]): string {
  const cell = (s: string) => (s === "" ? "—" : s);
  return [
    "| object | kind | anon | authenticated | service_role | why |",
    "| --- | --- | --- | --- | --- | --- |",
    ...rows.map((r) =>
      `| \`${r.object}\` | ${r.kind} | ${cell(r.grants.anon)} | ${cell(r.grants.authenticated)} | ${
        cell(r.grants.service_role)
      } | ${REASONS[r.object] ?? MISSING_REASON} |`
    ),
  ].join("\n");
}

export const DOC = new URL("../RELIABILITY.md", import.meta.url);
const START = "<!-- privileges:start (generated by `npm run privileges`; do not edit) -->";
const END = "<!-- privileges:end -->";

/** The table as committed in RELIABILITY.md. */
export function committedTable(doc: string): string | null {
  const start = doc.indexOf(START);
  const end = doc.indexOf(END);
  return start < 0 || end < start ? null : doc.slice(start + START.length, end).trim();
}

function replaceTable(doc: string, table: string): string {
  const start = doc.indexOf(START);
  const end = doc.indexOf(END);
  if (start < 0 || end < start) throw new Error(`RELIABILITY.md has no ${START} ... ${END} block`);
  return `${doc.slice(0, start + START.length)}\n\n${table}\n\n${doc.slice(end)}`;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const server = await startPgliteServer();
  try {
    const table = await withClient(server.url, async (sql) => {
      await prepareDatabase(sql);
      return renderPrivilegeTable(await readPrivileges(sql));
    });
    writeFileSync(DOC, replaceTable(readFileSync(DOC, "utf8"), table));
  } finally {
    await server.stop();
  }
}
