-- refresh_mentor_sync_status looks each mentor's listing up by primary key instead of hash-joining
-- mentor_listing_state. As a SQL function its plan is generic: it cannot see that the dispatcher's
-- result writes pass a handful of mentors, estimated 277 rows, and chose a hash join that read the
-- whole of mentor_listing_state on every call (auto_explain during a 10,000-event mass expiry:
-- 13.7 of 13.9 ms to refresh 2 mentors, about half of Postgres's CPU in the run). A correlated
-- lookup costs one index probe per mentor whatever the estimate. Same rows, same result.
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
         case
           when coalesce(
             (select l.listed from public.mentor_listing_state l where l.mentor_id = e.mentor_id),
             false
           ) then 'listed'
           else 'unlisted'
         end,
         e.event_id,
         e.event_type,
         e.attempts,
         case when e.state in ('pending', 'retrying') then e.next_attempt_at end,
         e.last_error,
         e.delivered_at,
         now()
    from public.sync_events e
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
