-- Auto-pause: expire every active certification past its expiry in one statement. The listing
-- triggers turn that into one event per mentor in the same transaction.
create or replace function public.expire_due_certifications() returns integer
language sql
security definer
set search_path = ''
as $$
  with expired as (
    update public.certifications
       set status = 'expired'
     where status = 'active' and expires_at <= pg_catalog.now()
    returning 1
  )
  select count(*)::integer from expired
$$;

revoke execute on function public.expire_due_certifications() from public, anon, authenticated;
grant execute on function public.expire_due_certifications() to service_role;

-- Schedules exist only where pg_cron is installed (Supabase); the local stack runs the job on a
-- timer. cron.schedule upserts by job name, so re-running this is harmless.
do $$
begin
  if exists (select 1 from pg_catalog.pg_extension where extname = 'pg_cron') then
    perform cron.schedule('hlf-expire-due-certifications', '15 2 * * *',
      'select public.expire_due_certifications()');
    perform cron.schedule('hlf-sync-retry', '* * * * *',
      $job$select public.invoke_sync_function('sync-retry', '{}'::jsonb)$job$);
  end if;
end
$$;
