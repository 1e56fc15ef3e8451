-- Retention: audit attempts and inbound ledger rows older than a given age are deleted, one
-- bounded batch per call (short transactions, no long lock on tables the dispatcher writes), except
-- the rows that still explain something unfinished:
--   - attempts of an event not yet delivered (pending, retrying, held), of a dead letter (failed),
--     or of an event a sync issue names;
--   - inbound rows of a mentor with such an event or a sync issue.
-- The local stack's timer loops until a batch comes back short (shared/retention.ts, with
-- SYNC_RETENTION_DAYS and SYNC_RETENTION_BATCH_SIZE); on Supabase the pg_cron job below runs one
-- batch a minute. The BRIN indexes that find the old end are with their tables.

create or replace function public.prune_sync_history(p_max_age interval, p_batch_size int)
returns table (attempts_deleted int, inbound_deleted int)
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_cutoff timestamptz := pg_catalog.now() - p_max_age;
begin
  if p_max_age is null or p_max_age < interval '1 day' or p_batch_size is null
     or p_batch_size < 1 then
    raise exception 'prune_sync_history: max age of at least 1 day and a positive batch size required'
      using errcode = 'invalid_parameter_value';
  end if;

  with doomed as (
    select a.id
      from public.dynamics_sync_attempts a
     where a.created_at < v_cutoff
       and not exists (
         select 1 from public.sync_events e
          where e.event_id = a.event_id
            and e.state in ('pending', 'retrying', 'held', 'failed'))
       and not exists (
         select 1 from public.sync_issues i
          where i.event_id = a.event_id)
     limit p_batch_size
  )
  delete from public.dynamics_sync_attempts a using doomed where a.id = doomed.id;
  get diagnostics attempts_deleted = row_count;

  with doomed as (
    select l.id
      from public.cert_notification_log l
     where l.received_at < v_cutoff
       and not exists (
         select 1 from public.sync_events e
          where e.mentor_id = l.mentor_id
            and e.state in ('pending', 'retrying', 'held', 'failed'))
       and not exists (
         select 1 from public.sync_issues i
          where i.mentor_id = l.mentor_id)
     limit p_batch_size
  )
  delete from public.cert_notification_log l using doomed where l.id = doomed.id;
  get diagnostics inbound_deleted = row_count;

  return next;
end
$$;

revoke execute on function public.prune_sync_history(interval, int) from public, anon, authenticated;
grant execute on function public.prune_sync_history(interval, int) to service_role;

-- On Supabase (pg_cron present): one batch of up to 5,000 rows per table every minute (each its own
-- short transaction; up to 7.2 million rows a day per table), default age 90 days. The local stack
-- runs the same function on a timer with SYNC_RETENTION_DAYS / SYNC_RETENTION_BATCH_SIZE; on a
-- project, change the age by scheduling this job again with another interval (cron.schedule
-- upserts by name).
do $$
begin
  if exists (select 1 from pg_catalog.pg_extension where extname = 'pg_cron') then
    perform cron.schedule('hlf-prune-sync-history', '* * * * *',
      $job$select public.prune_sync_history(interval '90 days', 5000)$job$);
  end if;
end
$$;
