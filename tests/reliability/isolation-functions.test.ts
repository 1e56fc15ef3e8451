// Isolation through the functions (issue 8, item 5): the RLS matrix of tests/db, extended to every
// endpoint and mode, called over HTTP through the gateway as the app and the dashboard call them.
// Two organisations; mentor "shared" is in chapters A1 and A2; one coordinator holds A1 and A2.
// The expectations are one table (who sees which mentor, which roles an endpoint admits); each case
// is derived from it. Forged JWTs are refused by the gateway and, behind it, by the functions.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApp as certificationExpiredApp } from "../../functions/certification-expired/app.ts";
import { createApp as certificationRenewedApp } from "../../functions/certification-renewed/app.ts";
import { createApp as syncReconcileApp } from "../../functions/sync-reconcile/app.ts";
import { createApp as syncResendApp } from "../../functions/sync-resend/app.ts";
import { createApp as syncRetryApp } from "../../functions/sync-retry/app.ts";
import { createApp as syncStatusApp } from "../../functions/sync-status/app.ts";
import {
  CHAPTER_MEMBERS,
  type ChapterName,
  createIsolationWorld,
  type Mentor,
  MENTORS,
} from "../support/isolation-world.ts";
import { forgeJwt, FORGERY_KINDS, type ForgeryKind } from "../support/forged-jwt.ts";
import { inProcessRuntime, signedDelivery } from "../support/inbound-delivery.ts";
import { listingConfirmed } from "../support/payload-factory.ts";
import { E2E_JWT_SECRET, startTestStack, type TestStack } from "../support/stack.ts";

type Actor = "anon" | "mentorA1" | "coordA1" | "coordA2" | "coordA1A2" | "coordB1" | "service";

const ACTORS: Actor[] = [
  "anon",
  "mentorA1",
  "coordA1",
  "coordA2",
  "coordA1A2",
  "coordB1",
  "service",
];

// ---- the expectation table ----------------------------------------------------------------------

/** The mentors each actor may see; null: the role may not call sync-status at all. */
const VISIBLE: Record<Actor, Mentor[] | null> = {
  anon: null,
  mentorA1: ["onlyA1"],
  coordA1: ["onlyA1", "shared"],
  coordA2: ["shared", "onlyA2"],
  coordA1A2: ["onlyA1", "shared", "onlyA2"],
  coordB1: ["onlyB1"],
  service: MENTORS,
};

/**
 * The chapters whose memberships each actor may see. A chapter filter works within them, and a
 * listed mentor's `chapterIds` never reveal another: coordinator A1 sees "shared" in A1 only.
 */
const CHAPTERS_SEEN: Record<Actor, ChapterName[]> = {
  anon: [],
  mentorA1: ["A1"],
  coordA1: ["A1"],
  coordA2: ["A2"],
  coordA1A2: ["A1", "A2"],
  coordB1: ["B1"],
  service: ["A1", "A2", "B1"],
};

/**
 * The mentors each actor may resend (sync-resend): only as their coordinator, so a peer mentor may
 * not resend even their own record; null: the role may not call it.
 */
const RESENDABLE: Record<Actor, Mentor[] | null> = {
  anon: null,
  mentorA1: [],
  coordA1: ["onlyA1", "shared"],
  coordA2: ["shared", "onlyA2"],
  coordA1A2: ["onlyA1", "shared", "onlyA2"],
  coordB1: ["onlyB1"],
  service: MENTORS,
};

/** The mentor the setup dead-letters, so the state filter splits the world. */
const FAILED: Mentor = "shared";

// ---- the world ----------------------------------------------------------------------------------

let t: TestStack;
const mentors = {} as Record<Mentor, string>;
const chapters = {} as Record<ChapterName, string>;
const tokens = {} as Record<Actor, string>;
let userIds: Record<Exclude<Actor, "anon" | "service">, string>;

beforeAll(async () => {
  t = await startTestStack({ env: { DYNAMICS_INBOUND_SECRETS: "isolation-inbound-secret" } });
  const sql = t.db.sql;
  const world = await createIsolationWorld(sql, { coordinatorOfBoth: true });
  Object.assign(mentors, world.mentors);
  Object.assign(chapters, world.chapters);
  userIds = world.users;
  tokens.anon = t.stack.anonKey;
  tokens.service = t.stack.serviceRoleKey;
  for (const [actor, id] of Object.entries(userIds)) tokens[actor as Actor] = await t.userJwt(id);

  // Everyone listed and synced, then "shared" expires and Dynamics refuses it for good.
  expect((await call("service", "POST", "sync-retry", {})).status).toBe(200);
  await t.sandbox.faults({ kind: "status", status: 400, count: 1000 });
  await sql`update public.certifications set status = 'expired' where mentor_id = ${
    mentors[FAILED]
  }`;
  expect((await call("service", "POST", "sync-retry", {})).body).toMatchObject({ failed: 1 });
  await t.sandbox.reset();
});
afterAll(async () => {
  await t?.close();
});

interface Answer {
  status: number;
  body: Record<string, unknown>;
}

async function send(token: string | null, method: string, path: string, body?: unknown) {
  const res = await fetch(`${t.stack.functionsUrl}/${path}`, {
    method,
    headers: {
      ...(token === null ? {} : { authorization: `Bearer ${token}` }),
      ...(body === undefined ? {} : { "content-type": "application/json" }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, body: await res.json() } as Answer;
}

const call = (actor: Actor, method: string, path: string, body?: unknown) =>
  send(tokens[actor], method, path, body);

const nameOf = (mentorId: string) => MENTORS.find((m) => mentors[m] === mentorId) ?? mentorId;
const listed = (a: Answer) =>
  (a.body.items as { mentorId: string }[]).map((i) => nameOf(i.mentorId)).sort();
const sorted = (names: Mentor[]) => [...names].sort();

// ---- sync-status --------------------------------------------------------------------------------

interface ListMode {
  name: string;
  filter: { state?: "failed" | "synced"; chapter?: ChapterName };
}

const LIST_MODES: ListMode[] = [
  { name: "everything", filter: {} },
  { name: "state=failed", filter: { state: "failed" } },
  { name: "state=synced", filter: { state: "synced" } },
  ...(["A1", "A2", "B1"] as const).map((chapter) => ({
    name: `chapter ${chapter}`,
    filter: { chapter },
  })),
  { name: "state=synced in chapter A2", filter: { state: "synced", chapter: "A2" } },
];

function expectedList(actor: Actor, { state, chapter }: ListMode["filter"]): Mentor[] {
  return (VISIBLE[actor] ?? []).filter((m) =>
    (state === undefined || (state === "failed") === (m === FAILED)) &&
    (chapter === undefined ||
      (CHAPTERS_SEEN[actor].includes(chapter) && CHAPTER_MEMBERS[chapter].includes(m)))
  );
}

function listQuery({ state, chapter }: ListMode["filter"]): Record<string, string> {
  return {
    list: "true",
    ...(state ? { state } : {}),
    ...(chapter ? { chapterId: chapters[chapter] } : {}),
  };
}

describe("sync-status by mentor", () => {
  const cases = ACTORS.flatMap((actor) =>
    MENTORS.flatMap((mentor) =>
      (["GET", "POST"] as const).map((method) => ({ actor, mentor, method }))
    )
  );
  it.each(cases)("$actor $method $mentor", async ({ actor, mentor, method }) => {
    const answer = method === "GET"
      ? await call(actor, "GET", `sync-status?mentorId=${mentors[mentor]}`)
      : await call(actor, "POST", "sync-status", { mentorId: mentors[mentor] });
    const visible = VISIBLE[actor];
    if (visible === null) {
      expect(answer).toMatchObject({ status: 403, body: { error: { code: "forbidden" } } });
    } else if (visible.includes(mentor)) {
      expect(answer.status).toBe(200);
      expect(answer.body).toMatchObject({
        mentorId: mentors[mentor],
        state: mentor === FAILED ? "failed" : "synced",
      });
    } else {
      // Not visible answers exactly like not existing.
      expect(answer).toMatchObject({ status: 404, body: { error: { code: "mentor_not_found" } } });
    }
  });
});

describe("sync-status list mode", () => {
  const cases = ACTORS.flatMap((actor) =>
    LIST_MODES.flatMap((mode) =>
      (["GET", "POST"] as const).map((method) => ({ actor, mode, method, name: mode.name }))
    )
  );
  it.each(cases)("$actor $method list $name", async ({ actor, mode, method }) => {
    const query = listQuery(mode.filter);
    const answer = method === "GET"
      ? await call(actor, "GET", `sync-status?${new URLSearchParams(query)}`)
      : await call(actor, "POST", "sync-status", { ...query, list: true });
    if (VISIBLE[actor] === null) {
      expect(answer).toMatchObject({ status: 403, body: { error: { code: "forbidden" } } });
      return;
    }
    expect(answer.status).toBe(200);
    expect(listed(answer)).toEqual(sorted(expectedList(actor, mode.filter)));
    const seen = CHAPTERS_SEEN[actor].map((c) => chapters[c]);
    for (const item of answer.body.items as { chapterIds: string[] }[]) {
      expect(item.chapterIds.filter((id) => !seen.includes(id))).toEqual([]);
    }
  });
});

// ---- service-only endpoints and the inbound webhook ---------------------------------------------

interface EndpointCase {
  name: string;
  method: "GET" | "POST";
  path: string;
  body: () => unknown;
  /** What the service role gets (any other caller: 403 forbidden). */
  service: { status: number; code?: string };
}

const SERVICE_ONLY: EndpointCase[] = [
  {
    name: "certification-expired (listed mentor: refused as a contradiction)",
    method: "POST",
    path: "certification-expired",
    body: () => ({ mentorId: mentors.onlyB1 }),
    service: { status: 409, code: "state_conflict" },
  },
  {
    name: "certification-renewed",
    method: "POST",
    path: "certification-renewed",
    body: () => ({ mentorId: mentors.onlyB1 }),
    service: { status: 200 },
  },
  {
    name: "sync-retry",
    method: "POST",
    path: "sync-retry",
    body: () => ({}),
    service: { status: 200 },
  },
  {
    name: "sync-health",
    method: "GET",
    path: "sync-health",
    body: () => undefined,
    service: { status: 200 },
  },
];

describe("service-only endpoints", () => {
  const cases = SERVICE_ONLY.flatMap((endpoint) =>
    ACTORS.map((actor) => ({ actor, endpoint, name: endpoint.name }))
  );
  it.each(cases)("$actor calls $name", async ({ actor, endpoint }) => {
    const answer = await call(actor, endpoint.method, endpoint.path, endpoint.body());
    if (actor === "service") {
      expect(answer.status).toBe(endpoint.service.status);
      if (endpoint.service.code) {
        expect(answer.body).toMatchObject({ error: { code: endpoint.service.code } });
      }
    } else {
      expect(answer).toMatchObject({ status: 403, body: { error: { code: "forbidden" } } });
    }
  });

  it("changed nothing for the callers it refused", async () => {
    const events = await t.db.sql`
      select count(*)::int as n from public.sync_events where mentor_id = ${mentors.onlyB1}`;
    // The initial listing only: certification-renewed by the service found it delivered already.
    expect(events).toEqual([{ n: 1 }]);
  });
});

describe("dynamics-webhook", () => {
  // A JWT neither grants nor blocks the webhook: only the signature counts, whoever holds the token.
  it.each(ACTORS)(
    "%s's JWT without a signature: 401; with a valid signature: 200",
    async (actor) => {
      const event = listingConfirmed({ mentorId: mentors.onlyA1 });
      const unsigned = await call(actor, "POST", "dynamics-webhook", event);
      expect(unsigned).toMatchObject({
        status: 401,
        body: { error: { code: "missing_signature" } },
      });
      const init = await signedDelivery(event, { secret: "isolation-inbound-secret" });
      const res = await fetch(`${t.stack.functionsUrl}/dynamics-webhook`, {
        ...init,
        headers: { ...init.headers, authorization: `Bearer ${tokens[actor]}` },
      });
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({ status: "accepted", eventId: event.eventId });
    },
  );
});

// ---- forged tokens ------------------------------------------------------------------------------

const JWT_ENDPOINTS = [
  { path: "sync-status", method: "POST", body: () => ({ list: true }), app: syncStatusApp },
  { path: "sync-retry", method: "POST", body: () => ({}), app: syncRetryApp },
  { path: "sync-reconcile", method: "POST", body: () => ({}), app: syncReconcileApp },
  {
    path: "sync-resend",
    method: "POST",
    body: () => ({ mentorId: mentors.onlyB1 }),
    app: syncResendApp,
  },
  {
    path: "certification-expired",
    method: "POST",
    body: () => ({ mentorId: mentors.onlyB1 }),
    app: certificationExpiredApp,
  },
  {
    path: "certification-renewed",
    method: "POST",
    body: () => ({ mentorId: mentors.onlyB1 }),
    app: certificationRenewedApp,
  },
] as const;

const forge = (kind: ForgeryKind) =>
  forgeJwt(kind, {
    secret: E2E_JWT_SECRET,
    userJwt: tokens.coordA1,
    otherUserId: userIds.coordB1,
  });

describe("forged and missing JWTs", () => {
  const cases = JWT_ENDPOINTS.flatMap((endpoint) =>
    [...FORGERY_KINDS, "missing" as const].map((kind) => ({ endpoint, kind, path: endpoint.path }))
  );

  it.each(cases)("the gateway refuses $kind on $path with 401", async ({ endpoint, kind }) => {
    const token = kind === "missing" ? null : await forge(kind);
    const answer = await send(token, endpoint.method, endpoint.path, endpoint.body());
    expect(answer.status).toBe(401);
    expect(answer.body).toEqual({
      error: {
        code: kind === "missing" ? "missing_authorization" : "invalid_jwt",
        message: expect.any(String),
      },
    });
  });

  // Behind the gateway (or with verify_jwt off), each function checks the token itself.
  it.each(cases)("$path itself refuses $kind with 401", async ({ endpoint, kind }) => {
    const { runtime } = inProcessRuntime(t.db, { JWT_SECRET: E2E_JWT_SECRET });
    const token = kind === "missing" ? null : await forge(kind);
    const res = await endpoint.app(runtime).request(`/${endpoint.path}`, {
      method: endpoint.method,
      headers: {
        "content-type": "application/json",
        ...(token === null ? {} : { authorization: `Bearer ${token}` }),
      },
      body: JSON.stringify(endpoint.body()),
    });
    expect(res.status).toBe(401);
    expect(await res.json()).toMatchObject({
      error: { code: expect.stringMatching(/^(missing_token|invalid_token|expired_token)$/) },
    });
  });

  it("the webhook ignores a forged JWT: the signature still decides", async () => {
    const forged = await forge("role_edited");
    const answer = await send(forged, "POST", "dynamics-webhook", listingConfirmed());
    expect(answer).toMatchObject({ status: 401, body: { error: { code: "missing_signature" } } });
  });
});

// ---- sync-resend (last: it changes the world the status cases read) -----------------------------

describe("sync-resend by mentor", () => {
  const cases = ACTORS.flatMap((actor) => MENTORS.map((mentor) => ({ actor, mentor })));
  it.each(cases)("$actor resends $mentor", async ({ actor, mentor }) => {
    const answer = await call(actor, "POST", "sync-resend", { mentorId: mentors[mentor] });
    const allowed = RESENDABLE[actor];
    if (allowed === null) {
      expect(answer).toMatchObject({ status: 403, body: { error: { code: "forbidden" } } });
    } else if (allowed.includes(mentor)) {
      // Accepted, or limited because another allowed actor resent the mentor this minute.
      expect([202, 429]).toContain(answer.status);
      if (answer.status === 202) expect(answer.body).toMatchObject({ mentorId: mentors[mentor] });
    } else {
      expect(answer).toMatchObject({ status: 404, body: { error: { code: "mentor_not_found" } } });
    }
  });

  it("audited only the requests of actors allowed to make them", async () => {
    const rows = await t.db.sql<{ requested_by: string | null; mentor_id: string }[]>`
      select requested_by, mentor_id from public.sync_resend_requests`;
    const byUser = Object.fromEntries(Object.entries(userIds).map(([actor, id]) => [id, actor]));
    for (const row of rows) {
      const actor = (row.requested_by === null ? "service" : byUser[row.requested_by]) as Actor;
      expect(RESENDABLE[actor]).toContain(nameOf(row.mentor_id));
    }
    expect(rows.length).toBeGreaterThanOrEqual(MENTORS.length);
  });
});
