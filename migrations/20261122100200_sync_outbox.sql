-- The outbound outbox: one row per sync event, written only by enqueue_sync_events (in the same
-- transaction as the change that caused it), claimed by dispatchers under a lease, finished with
-- the result of its round. Listing state, the status read model, the dispatch nudge and the
-- inbound ledger each have their own migration.

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
  -- the event, which is what dead-lettering counts (SYNC_MAX_ROUNDS).
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
  updated_at timestamptz not null default now(),
  -- The technical code of the last failure (shared/errors.ts `SyncError.code`, e.g. http_503,
  -- network, circuit_open), written with last_error; sync-status maps it to a coordinator's code.
  last_error_code text check (length(last_error_code) <= 100)
);
-- Dispatcher: due events in order; per-mentor history and "latest event of a mentor".
create index sync_events_state_next_attempt_idx on public.sync_events (state, next_attempt_at)
  where state in ('pending', 'retrying');
create index sync_events_mentor_id_idx on public.sync_events (mentor_id, id);
-- Health: the parked backlog (held, dead letters) by state.
create index sync_events_parked_idx on public.sync_events (state) where state in ('held', 'failed');

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

revoke execute on function public.enqueue_sync_events(uuid[], text[]),
  public.enqueue_sync_event(uuid, text)
  from public, anon, authenticated;
grant execute on function public.enqueue_sync_events(uuid[], text[]),
  public.enqueue_sync_event(uuid, text)
  to service_role;
