// The nudge after sync events are written: pg_notify, and pg_net posts to the edge functions when
// configured. pg_net is replaced by a test double with its signature that records the calls.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "../support/db.ts";
import { createListedMentor } from "../support/factories.ts";

let db: TestDatabase;

beforeAll(async () => {
  db = await createTestDatabase();
  await db.sql.unsafe(`
    create schema net;
    create table net.calls (id bigint generated always as identity, url text, body jsonb, headers jsonb);
    create table net.failing (fail boolean not null);
    create function net.http_post(url text, body jsonb default '{}', params jsonb default '{}',
      headers jsonb default '{}', timeout_milliseconds int default 5000) returns bigint
    language plpgsql as $$
    declare v_id bigint;
    begin
      if exists (select 1 from net.failing where fail) then
        raise exception 'pg_net queue unavailable for %', url;
      end if;
      insert into net.calls (url, body, headers) values (url, body, headers) returning id into v_id;
      return v_id;
    end $$;
  `).simple();
});
afterAll(async () => {
  await db?.close();
});

const SERVICE_KEY = "service-role-key-for-tests";

beforeEach(async () => {
  await db.sql`truncate net.calls, net.failing`;
  await db.sql`
    insert into public.sync_settings (key, value)
    values ('hlf_functions_url', 'http://127.0.0.1:54321/functions/v1/'),
           ('hlf_service_role_key', ${SERVICE_KEY})
    on conflict (key) do update set value = excluded.value`;
});

const calls = () =>
  db.sql<{ url: string; body: Record<string, unknown>; headers: Record<string, string> }[]>`
    select url, body, headers from net.calls order by id`;

describe("dispatch nudge", () => {
  it("posts each new event to its function as a Database Webhook INSERT payload", async () => {
    const { mentorId } = await createListedMentor(db.sql);
    const [event] = await db.sql`
      select * from public.sync_events where mentor_id = ${mentorId} order by id desc limit 1`;
    const [call] = await calls();
    expect(call.url).toBe("http://127.0.0.1:54321/functions/v1/certification-renewed");
    expect(call.headers).toEqual({
      "Content-Type": "application/json",
      Authorization: `Bearer ${SERVICE_KEY}`,
    });
    expect(call.body).toMatchObject({
      type: "INSERT",
      table: "sync_events",
      schema: "public",
      old_record: null,
      record: {
        event_id: event.event_id,
        mentor_id: mentorId,
        event_type: "certification.renewed",
      },
    });
    expect(await calls()).toHaveLength(1);
  });

  it("posts removals to certification-expired", async () => {
    const { certificationId } = await createListedMentor(db.sql);
    await db.sql`truncate net.calls`;
    await db.sql`update public.certifications set status = 'paused' where id = ${certificationId}`;
    expect((await calls()).map((c) => c.url.split("/").pop())).toEqual(["certification-expired"]);
  });

  it("a statement writing more than 20 events sends one sync-retry sweep instead", async () => {
    const mentors = await Promise.all(Array.from({ length: 21 }, () => createListedMentor(db.sql)));
    await db.sql`truncate net.calls`;
    await db.sql`update public.peer_mentors set status = 'paused'
                  where id = any(${mentors.map((m) => m.mentorId)}::uuid[])`;
    expect((await calls()).map((c) => [c.url.split("/").pop(), c.body])).toEqual([
      ["sync-retry", {}],
    ]);
  });

  it("sends nothing without a configured URL and key, and the write still commits", async () => {
    await db.sql`delete from public.sync_settings where key = 'hlf_service_role_key'`;
    const { mentorId } = await createListedMentor(db.sql);
    expect(await calls()).toEqual([]);
    const [{ n }] = await db.sql`
      select count(*)::int as n from public.sync_events where mentor_id = ${mentorId}`;
    expect(n).toBe(1);
  });

  it("a failing pg_net call never fails the transaction, and the warning holds no secret", async () => {
    const notices: string[] = [];
    const client = db.connect({ onnotice: (n) => notices.push(n.message) });
    await db.sql`insert into net.failing values (true)`;
    const { mentorId } = await createListedMentor(client);
    const [{ n }] = await db.sql`
      select count(*)::int as n from public.sync_events where mentor_id = ${mentorId}`;
    expect(n).toBe(1);
    expect(notices.some((m) => m.includes("invoke_sync_function(certification-renewed)"))).toBe(
      true,
    );
    expect(notices.join("\n")).not.toContain(SERVICE_KEY);
    expect(notices.join("\n")).not.toContain("127.0.0.1");
  });

  it("notifies 'dynamics_sync' with event_id and mentor_id (real Postgres: LISTEN needs its own session)", async ({ skip }) => {
    if (db.engine !== "postgres") skip("PGlite: LISTEN does not reach socket clients");
    const listener = db.connect();
    const received: Array<Record<string, unknown>> = [];
    let notified = () => {};
    const arrived = new Promise<void>((resolve) => (notified = resolve));
    await listener.listen("dynamics_sync", (payload) => {
      received.push(JSON.parse(payload));
      notified();
    });
    const { mentorId } = await createListedMentor(db.sql);
    // Bounded wait: the notification is delivered after commit, asynchronously.
    await Promise.race([arrived, new Promise((r) => setTimeout(r, 5_000))]);
    const [event] = await db.sql`
      select event_id from public.sync_events where mentor_id = ${mentorId}`;
    expect(received).toContainEqual({ event_id: event.event_id, mentor_id: mentorId });
  });
});
