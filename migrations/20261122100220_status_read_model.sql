-- The status read model: mentor_sync_status mirrors each mentor's latest non-superseded event, the
-- desired listing and the last attempts (the audit trigger fills those in), for sync-status and
-- the coordinators' dashboard.

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
