-- A mass expiry refreshes the outbox's planner statistics before it commits (issue 14, found with
-- auto_explain during the bench's 10,000-event expiry). Until autovacuum's next analyze (up to a
-- minute later), the planner believed the thousands of events the expiry had just enqueued did not
-- exist: every dispatcher claim read all due events, probed each for an older one and sorted them
-- all to take 500 (50-90 ms a claim), and plans cached in that window kept the guess. ANALYZE here
-- counts the transaction's own new rows, and its commit invalidates the cached plans. Below
-- ANALYZE_AT expired certifications the guess is close enough and the daily job stays as it was.
create or replace function public.expire_due_certifications() returns integer
language plpgsql
security definer
set search_path = ''
as $$
declare
  analyze_at constant integer := 1000;
  v_expired integer;
begin
  update public.certifications
     set status = 'expired'
   where status = 'active' and expires_at <= pg_catalog.now();
  get diagnostics v_expired = row_count;
  if v_expired >= analyze_at then
    analyze public.sync_events;
  end if;
  return v_expired;
end
$$;
revoke execute on function public.expire_due_certifications() from public, anon, authenticated;
grant execute on function public.expire_due_certifications() to service_role;
