-- mentor_sync_status carries the technical error code of the mentor's latest event, beside the
-- error text it already mirrors, so a status read no longer looks the event up. That lookup ran
-- under sync_events' row-level security: one more index probe and one more can_view_mentor call
-- per row, a third of the per-row policy work of a coordinator's list page (plans in bench
-- scenario 5) and of every single-mentor read. The code is written with the rest of the status,
-- by the refresh the outbox trigger already runs.
alter table public.mentor_sync_status add column last_error_code text;

update public.mentor_sync_status s
   set last_error_code = e.last_error_code
  from public.sync_events e
 where e.event_id = s.last_event_id
   and e.last_error_code is not null;

create or replace function private.refresh_mentor_sync_status(p_mentor_ids uuid[])
returns void
language plpgsql
security definer
set search_path = ''
as $$
begin
  insert into public.mentor_sync_status as s (
    mentor_id, state, listing, last_event_id, last_event_type, attempts, next_attempt_at,
    last_error, last_error_code, last_success_at, updated_at
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
         e.last_error_code,
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
        last_error_code = excluded.last_error_code,
        last_success_at = greatest(s.last_success_at, excluded.last_success_at),
        updated_at = excluded.updated_at;
end
$$;

-- The refresh runs when a field the status shows changes; the error code is one of them now.
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
     where (n.state, n.attempts, n.next_attempt_at, n.last_error, n.last_error_code, n.delivered_at)
           is distinct from
           (o.state, o.attempts, o.next_attempt_at, o.last_error, o.last_error_code, o.delivered_at);
  end if;
  if v_ids is not null then
    perform private.refresh_mentor_sync_status(v_ids);
  end if;
  return null;
end
$$;

-- New columns go last: `create or replace view` keeps the existing ones, the grants and
-- security_invoker.
create or replace view public.coordinator_sync_overview with (security_invoker = true) as
select s.mentor_id,
       m.full_name,
       m.status as mentor_status,
       array(
         select mc.chapter_id from public.mentor_chapters mc
          where mc.mentor_id = s.mentor_id order by mc.chapter_id
       ) as chapter_ids,
       s.state,
       s.listing,
       s.last_event_id,
       s.last_event_type,
       s.last_attempt_at,
       s.last_success_at,
       s.attempts,
       s.next_attempt_at,
       s.last_error,
       s.updated_at,
       s.last_error_code
  from public.mentor_sync_status s
  join public.peer_mentors m on m.id = s.mentor_id;
