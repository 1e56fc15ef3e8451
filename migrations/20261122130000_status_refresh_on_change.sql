-- Refresh a mentor's sync status only when an update changed what the status shows. The dispatcher
-- updates every event three times (claim: lease and round; result; Dynamics' confirmation) and only
-- the result matters to mentor_sync_status; refreshing on all three made Postgres the bottleneck of a
-- mass expiry (measured: ~127% CPU of 2 cores at ~200 deliveries/s).
create or replace function private.sync_events_status_update_trigger() returns trigger
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_ids uuid[];
begin
  select array_agg(distinct n.mentor_id) into v_ids
    from new_rows n
    join old_rows o on o.id = n.id
   where (n.state, n.attempts, n.next_attempt_at, n.last_error, n.delivered_at)
         is distinct from (o.state, o.attempts, o.next_attempt_at, o.last_error, o.delivered_at);
  if v_ids is not null then
    perform private.refresh_mentor_sync_status(v_ids);
  end if;
  return null;
end
$$;

drop trigger sync_events_status_update on public.sync_events;
create trigger sync_events_status_update
after update on public.sync_events
referencing old table as old_rows new table as new_rows
for each statement execute function private.sync_events_status_update_trigger();
