-- The outbound outbox. A mentor is publicly listed iff the mentor is active and the certification
-- is active and not yet past expires_at. That derived value is persisted in mentor_listing_state so
-- statement-level triggers can detect flips; each flip writes a sync event in the same
-- transaction, and every insert of sync events nudges dispatch once per statement.

-- Service-only settings, used when Vault is absent: hlf_functions_url, hlf_service_role_key.
create table public.sync_settings (
  key text primary key check (key ~ '^[a-z0-9_]{1,64}$'),
  value text not null,
  updated_at timestamptz not null default now()
);

create table public.mentor_listing_state (
  mentor_id uuid primary key references public.peer_mentors (id) on delete cascade,
  listed boolean not null,
  changed_at timestamptz not null default now()
);

create table public.sync_events (
  id bigint generated always as identity primary key,
  event_id uuid not null unique default gen_random_uuid(),
  mentor_id uuid not null references public.peer_mentors (id) on delete cascade,
  event_type text not null
    check (event_type in ('certification.expired', 'certification.renewed')),
  certification_status text not null check (certification_status in ('active', 'expired', 'paused')),
  expiry_date timestamptz,
  state text not null default 'pending'
    check (state in ('pending', 'retrying', 'delivered', 'failed', 'held', 'superseded')),
  -- attempts: HTTP attempts (what the audit log shows); rounds: how many times a dispatcher claimed
  -- the event, which is what dead-lettering counts (SYNC_MAX_ATTEMPTS).
  attempts int not null default 0 check (attempts >= 0),
  rounds int not null default 0 check (rounds >= 0),
  next_attempt_at timestamptz not null default now(),
  lease_owner text,
  lease_expires_at timestamptz,
  last_error text check (length(last_error) <= 2000),
  last_status int,
  created_at timestamptz not null default now(),
  delivered_at timestamptz,
  confirmed_at timestamptz,
  updated_at timestamptz not null default now()
);
-- Dispatcher: due events in order; per-mentor history and "latest event of a mentor".
create index sync_events_state_next_attempt_idx on public.sync_events (state, next_attempt_at)
  where state in ('pending', 'retrying');
create index sync_events_mentor_id_idx on public.sync_events (mentor_id, id);

create trigger sync_events_touch_updated_at
before update on public.sync_events
for each row execute function private.touch_updated_at();

-- "Due" and "lease free", stated once for every query that asks (claim, hold, supersede, the local
-- poll, reconciliation's in-flight test). Both are inclusive: an event is due AT next_attempt_at and
-- a lease has run out AT lease_expires_at, as a certification has expired at expires_at. No SET
-- clause and LANGUAGE sql, so the planner inlines them and the partial index still serves claims.
create function private.sync_event_is_due(e public.sync_events) returns boolean
language sql
stable
as $$
  select e.state in ('pending', 'retrying') and e.next_attempt_at <= pg_catalog.now()
$$;

create function private.sync_event_lease_is_free(e public.sync_events) returns boolean
language sql
stable
as $$
  select e.lease_expires_at is null or e.lease_expires_at <= pg_catalog.now()
$$;

-- The dispatchers' queries call them as service_role.
revoke all on function private.sync_event_is_due(public.sync_events),
  private.sync_event_lease_is_free(public.sync_events) from public;
grant execute on function private.sync_event_is_due(public.sync_events),
  private.sync_event_lease_is_free(public.sync_events) to service_role;

create table public.mentor_sync_status (
  mentor_id uuid primary key references public.peer_mentors (id) on delete cascade,
  state text not null check (state in ('synced', 'pending', 'retrying', 'failed', 'held')),
  listing text not null check (listing in ('listed', 'unlisted')),
  last_event_id uuid,
  last_event_type text,
  last_attempt_at timestamptz,
  last_success_at timestamptz,
  attempts int not null default 0,
  next_attempt_at timestamptz,
  last_error text,
  updated_at timestamptz not null default now()
);
-- Dashboard list mode: by state (joined to mentor_chapters by chapter).
create index mentor_sync_status_state_idx on public.mentor_sync_status (state, mentor_id);

-- Guarded call of an edge function through pg_net. Does nothing unless pg_net is installed and a
-- base URL and service key are configured (Vault secrets, else sync_settings). Never raises: a
-- missing nudge only delays delivery until the next sync-retry sweep. Returns the pg_net request
-- id, or null when nothing was sent.
create or replace function public.invoke_sync_function(p_name text, p_body jsonb)
returns bigint
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_url text;
  v_key text;
  v_request bigint;
begin
  -- pg_net installed means net.http_post exists (checked by name, so a test double works too).
  if pg_catalog.to_regproc('net.http_post') is null then
    return null;
  end if;
  if exists (select 1 from pg_catalog.pg_namespace where nspname = 'vault') then
    execute 'select max(decrypted_secret) filter (where name = $1),
                    max(decrypted_secret) filter (where name = $2)
               from vault.decrypted_secrets where name in ($1, $2)'
      into v_url, v_key using 'hlf_functions_url', 'hlf_service_role_key';
  end if;
  v_url := coalesce(v_url,
    (select value from public.sync_settings where key = 'hlf_functions_url'));
  v_key := coalesce(v_key,
    (select value from public.sync_settings where key = 'hlf_service_role_key'));
  if v_url is null or v_key is null then
    return null;
  end if;
  execute 'select net.http_post(url := $1, body := $2, headers := $3)'
    into v_request
    using pg_catalog.rtrim(v_url, '/') || '/' || p_name,
      coalesce(p_body, '{}'::jsonb),
      pg_catalog.jsonb_build_object(
        'Content-Type', 'application/json',
        'Authorization', 'Bearer ' || v_key
      );
  return v_request;
exception when others then
  -- SQLSTATE only: the message could echo the URL or the key.
  raise warning 'invoke_sync_function(%) skipped: SQLSTATE %', p_name, sqlstate;
  return null;
end
$$;

-- The one path that writes sync events. For each mentor: older undelivered events that are not
-- leased right now are superseded (the newest event carries the mentor's current state), then the
-- new events are inserted in ONE statement, so the nudge trigger fires once per batch.
--
-- certification_status snapshot ('active' | 'expired' | 'paused', as the payload contract allows):
--   renewed -> 'active'; certification expired or paused -> itself; revoked -> 'paused' (removed
--   by decision, not by time); active but past expires_at -> 'expired'; mentor paused -> 'paused';
--   no certification -> 'expired'.
create or replace function public.enqueue_sync_events(p_mentor_ids uuid[], p_event_types text[])
returns setof public.sync_events
language plpgsql
security definer
set search_path = ''
as $$
begin
  update public.sync_events e
     set state = 'superseded'
   where e.mentor_id = any(p_mentor_ids)
     and e.state in ('pending', 'retrying', 'held', 'failed')
     and private.sync_event_lease_is_free(e);

  return query
  insert into public.sync_events (mentor_id, event_type, certification_status, expiry_date)
  select r.mentor_id,
         r.event_type,
         case
           when r.event_type = 'certification.renewed' then 'active'
           when c.status in ('expired', 'paused') then c.status
           when c.status = 'revoked' then 'paused'
           when c.status = 'active' and now() >= c.expires_at then 'expired'
           when m.status = 'paused' then 'paused'
           else 'expired'
         end,
         c.expires_at
    from (
      -- The last request per mentor wins if a caller passes a mentor twice.
      select distinct on (u.mentor_id) u.mentor_id, u.event_type
        from unnest(p_mentor_ids, p_event_types) with ordinality as u(mentor_id, event_type, n)
       order by u.mentor_id, u.n desc
    ) r
    left join public.peer_mentors m on m.id = r.mentor_id
    left join public.certifications c on c.mentor_id = r.mentor_id
   order by r.mentor_id
  returning *;
end
$$;

create or replace function public.enqueue_sync_event(p_mentor_id uuid, p_event_type text)
returns public.sync_events
language sql
security definer
set search_path = ''
as $$
  select * from public.enqueue_sync_events(array[p_mentor_id], array[p_event_type])
$$;

revoke execute on function public.invoke_sync_function(text, jsonb),
  public.enqueue_sync_events(uuid[], text[]),
  public.enqueue_sync_event(uuid, text)
  from public, anon, authenticated;
grant execute on function public.invoke_sync_function(text, jsonb),
  public.enqueue_sync_events(uuid[], text[]),
  public.enqueue_sync_event(uuid, text)
  to service_role;

-- Recomputes the listing of the given mentors; mentors whose listing flipped get one event each.
-- A mentor never seen before counts as unlisted.
create or replace function private.refresh_listing_state(p_mentor_ids uuid[])
returns void
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_ids uuid[];
  v_types text[];
begin
  with computed as (
    select m.id as mentor_id,
           coalesce(m.status = 'active' and c.status = 'active' and now() < c.expires_at, false)
             as listed,
           s.listed as was_listed
      from public.peer_mentors m
      left join public.certifications c on c.mentor_id = m.id
      left join public.mentor_listing_state s on s.mentor_id = m.id
     where m.id = any(p_mentor_ids)
  ),
  changed as (
    select * from computed where was_listed is distinct from listed
  ),
  written as (
    insert into public.mentor_listing_state (mentor_id, listed, changed_at)
    select mentor_id, listed, now() from changed order by mentor_id
    on conflict (mentor_id) do update
      set listed = excluded.listed, changed_at = excluded.changed_at
  )
  select array_agg(mentor_id order by mentor_id),
         array_agg(case when listed then 'certification.renewed' else 'certification.expired' end
           order by mentor_id)
    into v_ids, v_types
    from changed
   where listed <> coalesce(was_listed, false);

  if v_ids is not null then
    perform public.enqueue_sync_events(v_ids, v_types);
  end if;
end
$$;

-- Statement-level with transition tables: one recomputation per statement, however many rows.
create or replace function private.certifications_listing_trigger() returns trigger
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_ids uuid[];
begin
  if tg_op = 'INSERT' then
    select array_agg(distinct mentor_id) into v_ids from new_rows;
  elsif tg_op = 'DELETE' then
    select array_agg(distinct mentor_id) into v_ids from old_rows;
  else
    select array_agg(distinct x.mentor_id) into v_ids
      from new_rows n
      join old_rows o on o.id = n.id
      cross join lateral (values (n.mentor_id), (o.mentor_id)) as x(mentor_id)
     where (n.status, n.expires_at, n.mentor_id) is distinct from (o.status, o.expires_at, o.mentor_id);
  end if;
  if v_ids is not null then
    perform private.refresh_listing_state(v_ids);
  end if;
  return null;
end
$$;

create trigger certifications_listing_insert
after insert on public.certifications
referencing new table as new_rows
for each statement execute function private.certifications_listing_trigger();

create trigger certifications_listing_update
after update on public.certifications
referencing old table as old_rows new table as new_rows
for each statement execute function private.certifications_listing_trigger();

create trigger certifications_listing_delete
after delete on public.certifications
referencing old table as old_rows
for each statement execute function private.certifications_listing_trigger();

create or replace function private.peer_mentors_listing_trigger() returns trigger
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_ids uuid[];
begin
  if tg_op = 'INSERT' then
    select array_agg(id) into v_ids from new_rows;
  else
    select array_agg(n.id) into v_ids
      from new_rows n
      join old_rows o on o.id = n.id
     where n.status is distinct from o.status;
  end if;
  if v_ids is not null then
    perform private.refresh_listing_state(v_ids);
  end if;
  return null;
end
$$;

create trigger peer_mentors_listing_insert
after insert on public.peer_mentors
referencing new table as new_rows
for each statement execute function private.peer_mentors_listing_trigger();

create trigger peer_mentors_listing_update
after update on public.peer_mentors
referencing old table as old_rows new table as new_rows
for each statement execute function private.peer_mentors_listing_trigger();

-- mentor_sync_status mirrors each mentor's latest non-superseded event and the desired listing.
create or replace function private.refresh_mentor_sync_status(p_mentor_ids uuid[])
returns void
language sql
security definer
set search_path = ''
as $$
  insert into public.mentor_sync_status as s (
    mentor_id, state, listing, last_event_id, last_event_type, attempts, next_attempt_at,
    last_error, last_success_at, updated_at
  )
  select distinct on (e.mentor_id)
         e.mentor_id,
         case e.state when 'delivered' then 'synced' else e.state end,
         case when coalesce(l.listed, false) then 'listed' else 'unlisted' end,
         e.event_id,
         e.event_type,
         e.attempts,
         case when e.state in ('pending', 'retrying') then e.next_attempt_at end,
         e.last_error,
         e.delivered_at,
         now()
    from public.sync_events e
    left join public.mentor_listing_state l on l.mentor_id = e.mentor_id
   where e.mentor_id = any(p_mentor_ids)
     and e.state <> 'superseded'
   order by e.mentor_id, e.id desc
  on conflict (mentor_id) do update
    set state = excluded.state,
        listing = excluded.listing,
        last_event_id = excluded.last_event_id,
        last_event_type = excluded.last_event_type,
        attempts = excluded.attempts,
        next_attempt_at = excluded.next_attempt_at,
        last_error = excluded.last_error,
        last_success_at = greatest(s.last_success_at, excluded.last_success_at),
        updated_at = excluded.updated_at
$$;

-- On insert, for every new event's mentor; on update, only when a field the status shows changed:
-- the dispatcher updates every event three times (claim, result, Dynamics' confirmation) and only
-- the result matters here (measured: refreshing on all three made Postgres the bottleneck of a mass
-- expiry).
create or replace function private.sync_events_status_trigger() returns trigger
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_ids uuid[];
begin
  if tg_op = 'INSERT' then
    select array_agg(distinct mentor_id) into v_ids from new_rows;
  else
    select array_agg(distinct n.mentor_id) into v_ids
      from new_rows n
      join old_rows o on o.id = n.id
     where (n.state, n.attempts, n.next_attempt_at, n.last_error, n.delivered_at)
           is distinct from (o.state, o.attempts, o.next_attempt_at, o.last_error, o.delivered_at);
  end if;
  if v_ids is not null then
    perform private.refresh_mentor_sync_status(v_ids);
  end if;
  return null;
end
$$;

create trigger sync_events_status_insert
after insert on public.sync_events
referencing new table as new_rows
for each statement execute function private.sync_events_status_trigger();

create trigger sync_events_status_update
after update on public.sync_events
referencing old table as old_rows new table as new_rows
for each statement execute function private.sync_events_status_trigger();

-- Nudge dispatch once per statement: pg_notify for a local listener, and pg_net to the edge
-- function where configured. Up to 20 events are posted one by one in the shape of a Supabase
-- Database Webhook; a larger batch gets a single sync-retry sweep (and a single notification)
-- instead of flooding the functions.
create or replace function private.sync_events_nudge_trigger() returns trigger
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_count int;
  r record;
begin
  select count(*) into v_count from inserted_rows;
  if v_count = 0 then
    return null;
  end if;
  if v_count > 20 then
    perform pg_catalog.pg_notify('dynamics_sync',
      pg_catalog.jsonb_build_object('sweep', true, 'count', v_count)::text);
    perform public.invoke_sync_function('sync-retry', '{}'::jsonb);
    return null;
  end if;
  for r in select * from inserted_rows order by id loop
    perform pg_catalog.pg_notify('dynamics_sync',
      pg_catalog.jsonb_build_object('event_id', r.event_id, 'mentor_id', r.mentor_id)::text);
    perform public.invoke_sync_function(
      case r.event_type
        when 'certification.expired' then 'certification-expired'
        else 'certification-renewed'
      end,
      pg_catalog.jsonb_build_object(
        'type', 'INSERT',
        'table', 'sync_events',
        'schema', 'public',
        'record', pg_catalog.to_jsonb(r),
        'old_record', null
      )
    );
  end loop;
  return null;
end
$$;

create trigger sync_events_nudge
after insert on public.sync_events
referencing new table as inserted_rows
for each statement execute function private.sync_events_nudge_trigger();
