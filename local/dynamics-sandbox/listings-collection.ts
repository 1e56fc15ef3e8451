// The portal's listings as Dataverse serves an entity set: OData JSON, server-driven paging with
// `Prefer: odata.maxpagesize=N` (answered with `Preference-Applied`) and `@odata.nextLink` carrying
// an opaque `$skiptoken`, and `$select` of the columns. Same credentials and throttle as the
// webhook receiver. Rows come in mentorId order, so a cursor is simply the last id served.
import type { Context } from "hono";
import { codeForStatus, DATAVERSE_CODES, dataverseError } from "./dataverse.ts";
import { admit } from "./service-protection.ts";
import type { ListingRecord, SandboxState } from "./state.ts";
import { checkCredentials, type SandboxEnv, WWW_AUTHENTICATE } from "./webhook-receiver.ts";

export const LISTINGS_ENTITY_SET = "hlf_mentorlistings";
export const LISTINGS_PATH = `/api/data/v9.2/${LISTINGS_ENTITY_SET}`;
/** Dataverse's default and largest page. */
export const MAX_PAGE_SIZE = 5000;

/** The entity's columns and how each is read from a listing record. */
const COLUMNS = {
  hlf_mentorid: (r: ListingRecord) => r.mentorId,
  hlf_listing: (r: ListingRecord) => r.listing,
  hlf_lasteventid: (r: ListingRecord) => r.lastEventId,
  modifiedon: (r: ListingRecord) => r.updatedAt,
} as const;
type Column = keyof typeof COLUMNS;
const ALL_COLUMNS = Object.keys(COLUMNS) as Column[];

function isColumn(name: string): name is Column {
  return Object.hasOwn(COLUMNS, name);
}

const encodeCursor = (mentorId: string) => btoa(mentorId);
function decodeCursor(token: string): string | null {
  try {
    return atob(token);
  } catch {
    return null;
  }
}

// Listings are only ever added (a reset replaces the map), so the sorted ids stay valid while the
// size is unchanged; reading 100,000 listings then costs one sort, not one per page.
const sortedCache = new WeakMap<Map<string, ListingRecord>, string[]>();
function sortedIds(listings: Map<string, ListingRecord>): string[] {
  let ids = sortedCache.get(listings);
  if (!ids || ids.length !== listings.size) {
    ids = [...listings.keys()].sort();
    sortedCache.set(listings, ids);
  }
  return ids;
}

function firstAfter(ids: string[], after: string): number {
  let low = 0;
  let high = ids.length;
  while (low < high) {
    const mid = (low + high) >>> 1;
    if (ids[mid] <= after) low = mid + 1;
    else high = mid;
  }
  return low;
}

function pageSize(prefer: string | undefined): number | null {
  const match = /(?:^|[,;\s])odata\.maxpagesize=(\d+)/i.exec(prefer ?? "");
  if (!match) return null;
  return Math.min(Math.max(Number(match[1]), 1), MAX_PAGE_SIZE);
}

function badRequest(message: string): Response {
  return dataverseError(400, codeForStatus(400), message);
}

export function handleListings(c: Context<SandboxEnv>, state: SandboxState, nowMs: number) {
  const refused = admit(c, state, nowMs);
  if (refused) return refused;
  const credentialProblem = checkCredentials(c.req.raw.headers, state, nowMs);
  if (credentialProblem) {
    return dataverseError(401, DATAVERSE_CODES.unauthorized, `Unauthorized: ${credentialProblem}`, {
      "WWW-Authenticate": WWW_AUTHENTICATE,
    });
  }

  const selectParam = c.req.query("$select");
  const selected = selectParam ? selectParam.split(",").map((s) => s.trim()) : ALL_COLUMNS;
  const unknown = selected.find((name) => !isColumn(name));
  if (unknown !== undefined) {
    return badRequest(
      `Could not find a property named '${unknown}' on type 'Microsoft.Dynamics.CRM.hlf_mentorlisting'.`,
    );
  }
  const columns = selected as Column[];
  // Rows always come in mentor id order; asking for it explicitly (as a client relying on it must
  // against Dataverse) is accepted, any other order is not supported.
  const orderBy = c.req.query("$orderby");
  if (orderBy !== undefined && !/^hlf_mentorid(\s+asc)?$/.test(orderBy.trim())) {
    return badRequest(`Unsupported $orderby '${orderBy}': only hlf_mentorid asc.`);
  }
  const skipToken = c.req.query("$skiptoken");
  const after = skipToken === undefined ? null : decodeCursor(skipToken);
  if (skipToken !== undefined && after === null) return badRequest("Invalid $skiptoken.");
  const requested = pageSize(c.req.header("prefer"));
  const size = requested ?? MAX_PAGE_SIZE;

  const ids = sortedIds(state.listings);
  const start = after === null ? 0 : firstAfter(ids, after);
  const page = ids.slice(start, start + size);
  state.counters.listingPages += 1;

  const origin = new URL(c.req.url).origin;
  const body: Record<string, unknown> = {
    "@odata.context": `${origin}/api/data/v9.2/$metadata#${LISTINGS_ENTITY_SET}(${
      columns.join(",")
    })`,
    value: page.map((id) => {
      const record = state.listings.get(id)!;
      return Object.fromEntries(columns.map((column) => [column, COLUMNS[column](record)]));
    }),
  };
  if (start + page.length < ids.length) {
    // Literal `$` names, as Dataverse writes them; the token is the only encoded part.
    const select = selectParam ? `$select=${columns.join(",")}&` : "";
    const order = orderBy === undefined ? "" : `$orderby=${encodeURIComponent(orderBy.trim())}&`;
    const token = encodeURIComponent(encodeCursor(page[page.length - 1]));
    body["@odata.nextLink"] = `${origin}${LISTINGS_PATH}?${select}${order}$skiptoken=${token}`;
  }
  const headers: Record<string, string> = {
    "Content-Type": "application/json; odata.metadata=minimal",
    "OData-Version": "4.0",
  };
  if (requested !== null) headers["Preference-Applied"] = `odata.maxpagesize=${requested}`;
  return new Response(JSON.stringify(body), { status: 200, headers });
}
