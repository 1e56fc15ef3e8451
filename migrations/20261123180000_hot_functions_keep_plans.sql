-- The functions every result write and every coordinator's status read call are plpgsql now, so
-- their statements are planned once per session. As SECURITY DEFINER SQL functions with a fixed
-- search_path they could never be inlined, and PostgreSQL (15 to 17) parsed and planned their
-- statement again on every call. Measured with pg_stat_statements (track = all, track_planning) on
-- bench scenario 9, 10,000 deliveries in 1,195 result writes: refresh_mentor_sync_status planned its
-- insert 1,195 times (2.7 s of the writes' 9.9 s, 0.4 s of it planning), resolve_sync_alerts its
-- update 1,194 times (0.7 s for 14 ms of execution); on scenario 5, coordinated_chapter_ids its
-- select once per read (0.14 ms of planning each). Same statements, same results; only the
-- language changes (the per-row RLS helpers were made plpgsql for the same reason).
create or replace function private.refresh_mentor_sync_status(p_mentor_ids uuid[])
returns void
language plpgsql
security definer
set search_path = ''
as $$
begin
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
        updated_at = excluded.updated_at;
end
$$;

create or replace function private.resolve_sync_alerts(p_cause text, p_mentor_ids uuid[])
returns void
language plpgsql
security definer
set search_path = ''
as $$
begin
  update public.sync_alerts
     set status = 'resolved', resolved_at = now()
   where status = 'open'
     and cause = p_cause
     and coalesce(mentor_id, '00000000-0000-0000-0000-000000000000'::uuid) = any(
       coalesce(p_mentor_ids, array['00000000-0000-0000-0000-000000000000'::uuid]));
end
$$;

create or replace function private.coordinated_chapter_ids() returns setof uuid
language plpgsql
stable
security definer
set search_path = ''
as $$
begin
  return query
    select cm.chapter_id
      from public.chapter_memberships cm
     where cm.user_id = auth.uid() and cm.role = 'coordinator';
end
$$;
