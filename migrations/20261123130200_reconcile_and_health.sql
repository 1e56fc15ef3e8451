-- Reconciliation (anti-entropy): sync-reconcile reads the portal's listings page by page, in mentor
-- id order, and hands each page to reconcile_listings_page(), which compares it with
-- mentor_listing_state over the id range the page covers, so mentors we list that the portal lacks
-- are found without remembering every id seen. A run may span several invocations: it keeps the
-- portal's next link as its cursor, and a lease so two invocations never work on it at once.

create table public.sync_reconcile_runs (
  id bigint generated always as identity primary key,
  status text not null default 'running' check (status in ('running', 'done', 'failed')),
  started_at timestamptz not null default now(),
  finished_at timestamptz,
  -- Where the next invocation resumes: the portal's @odata.nextLink and the last id compared.
  next_link text check (length(next_link) <= 4000),
  last_mentor_id uuid,
  lease_until timestamptz,
  invocations int not null default 0 check (invocations >= 0),
  pages int not null default 0 check (pages >= 0),
  -- Requests sent to Dynamics (page reads, retries included).
  requests int not null default 0 check (requests >= 0),
  checked int not null default 0 check (checked >= 0),
  -- Listings that differ from ours: corrected by an event (enqueued) or not correctable (unknown).
  drift int not null default 0 check (drift >= 0),
  enqueued int not null default 0 check (enqueued >= 0),
  -- Listed by the portal but unknown to us: drift no event can correct (the drift alert counts it).
  unknown int not null default 0 check (unknown >= 0),
  -- Different only because an event for the mentor is still on its way: left alone.
  in_flight int not null default 0 check (in_flight >= 0),
  error text check (length(error) <= 2000),
  updated_at timestamptz not null default now()
);
create unique index sync_reconcile_runs_one_running on public.sync_reconcile_runs ((true))
  where status = 'running';
create index sync_reconcile_runs_finished_idx on public.sync_reconcile_runs (id)
  where status <> 'running';

-- The running run (resumed) or a new one, leased for p_lease_seconds; no row while another
-- invocation holds the lease.
create or replace function public.begin_reconcile_run(p_lease_seconds int)
returns setof public.sync_reconcile_runs
language plpgsql
security definer
set search_path = ''
as $$
begin
  insert into public.sync_reconcile_runs (status) values ('running')
  on conflict ((true)) where status = 'running' do nothing;
  return query
  update public.sync_reconcile_runs r
     set lease_until = now() + make_interval(secs => p_lease_seconds),
         invocations = r.invocations + 1,
         updated_at = now()
   where r.status = 'running' and (r.lease_until is null or r.lease_until <= now())
  returning r.*;
end
$$;

-- Compares one page (p_rows: [{"mentorId", "listing"}]) over the id range (p_after, p_through]
-- (null bounds: open ends) and enqueues a corrective event for each differing known mentor, through
-- the one path that writes events (enqueue_sync_events: older undelivered events superseded, per-
-- mentor order kept). Adds the page to the run and moves its cursor.
create or replace function public.reconcile_listings_page(
  p_run_id bigint,
  p_rows jsonb,
  p_after uuid,
  p_through uuid,
  p_next_link text,
  p_requests int
)
returns public.sync_reconcile_runs
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_checked int;
  v_unknown int;
  v_in_flight int;
  v_ids uuid[];
  v_types text[];
  v_run public.sync_reconcile_runs;
begin
  with compared as (
    select coalesce(t.mentor_id, s.mentor_id) as mentor_id,
           m.id is not null as known,
           t.listing as theirs,
           coalesce(s.listed, false) as ours_listed,
           exists (
             select 1 from public.sync_events e
              where e.mentor_id = coalesce(t.mentor_id, s.mentor_id)
                and (e.state in ('pending', 'retrying', 'held') or not private.sync_event_lease_is_free(e)))
             as in_flight
      from (
        select r."mentorId" as mentor_id, r.listing
          from jsonb_to_recordset(p_rows) as r("mentorId" uuid, listing text)
      ) t
      full join (
        select l.mentor_id, l.listed
          from public.mentor_listing_state l
         where (p_after is null or l.mentor_id > p_after)
           and (p_through is null or l.mentor_id <= p_through)
      ) s on s.mentor_id = t.mentor_id
      left join public.peer_mentors m on m.id = coalesce(t.mentor_id, s.mentor_id)
  ), judged as (
    -- theirs null = the portal lacks the mentor, which matters only when we list them.
    select *, (coalesce(theirs, 'unlisted') = 'listed') <> ours_listed as differs from compared
  )
  select count(*) filter (where theirs is not null),
         count(*) filter (where not known and theirs = 'listed'),
         count(*) filter (where known and in_flight and differs),
         array_agg(mentor_id order by mentor_id) filter (where known and not in_flight and differs),
         array_agg(case when ours_listed then 'certification.renewed'
                        else 'certification.expired' end order by mentor_id)
           filter (where known and not in_flight and differs)
    into v_checked, v_unknown, v_in_flight, v_ids, v_types
    from judged;

  if v_ids is not null then
    perform public.enqueue_sync_events(v_ids, v_types);
  end if;

  update public.sync_reconcile_runs r
     set pages = r.pages + 1,
         requests = r.requests + p_requests,
         checked = r.checked + v_checked,
         drift = r.drift + coalesce(cardinality(v_ids), 0) + v_unknown,
         enqueued = r.enqueued + coalesce(cardinality(v_ids), 0),
         unknown = r.unknown + v_unknown,
         in_flight = r.in_flight + v_in_flight,
         next_link = p_next_link,
         last_mentor_id = coalesce(p_through, r.last_mentor_id),
         updated_at = now()
   where r.id = p_run_id
  returning r.* into v_run;
  return v_run;
end
$$;

-- Ends a run (p_error null: completed) and raises or resolves the drift alert from its counts.
-- Also records requests spent by a failed read.
create or replace function public.finish_reconcile_run(
  p_run_id bigint,
  p_error text,
  p_requests int
)
returns public.sync_reconcile_runs
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_run public.sync_reconcile_runs;
begin
  update public.sync_reconcile_runs r
     set status = case when p_error is null then 'done' else 'failed' end,
         error = left(p_error, 2000),
         requests = r.requests + p_requests,
         finished_at = now(),
         lease_until = null,
         updated_at = now()
   where r.id = p_run_id and r.status = 'running'
  returning r.* into v_run;
  if v_run.id is null or v_run.status <> 'done' then
    return v_run;
  end if;
  if v_run.drift > 0 then
    perform private.raise_sync_alerts('drift', jsonb_build_array(jsonb_build_object(
      'mentor_id', null,
      'summary', format('Reconciliation found %s portal listing(s) wrong (%s corrected, %s unknown to us)',
        v_run.drift, v_run.enqueued, v_run.unknown),
      'details', jsonb_build_object('runId', v_run.id, 'drift', v_run.drift,
        'enqueued', v_run.enqueued, 'unknown', v_run.unknown))));
  else
    perform private.resolve_sync_alerts('drift', null);
  end if;
  return v_run;
end
$$;

-- Lets a run that is not finishing hand its lease back, so the next invocation resumes at once.
create or replace function public.release_reconcile_run(p_run_id bigint, p_requests int)
returns public.sync_reconcile_runs
language sql
security definer
set search_path = ''
as $$
  update public.sync_reconcile_runs r
     set lease_until = null, requests = r.requests + p_requests, updated_at = now()
   where r.id = p_run_id and r.status = 'running'
  returning r.*
$$;

-- Health: one statement, every part an index lookup or a bounded range (cheap enough to poll every
-- 10 s). p_default_enabled is the env flag, used for the pause state until the switch row exists.

create or replace function public.sync_health(p_default_enabled boolean)
returns jsonb
language sql
stable
security definer
set search_path = ''
as $$
  select jsonb_build_object(
    'backlog', jsonb_build_object(
      'pending', (select count(*) from public.sync_events where state = 'pending'),
      'retrying', (select count(*) from public.sync_events where state = 'retrying'),
      'held', (select count(*) from public.sync_events where state = 'held'),
      'failed', (select count(*) from public.sync_events where state = 'failed')),
    'oldestDueAgeSeconds', (
      select extract(epoch from now() - least(
        (select min(next_attempt_at) from public.sync_events
          where state = 'pending' and next_attempt_at <= now()),
        (select min(next_attempt_at) from public.sync_events
          where state = 'retrying' and next_attempt_at <= now())))::float8),
    'lastHour', (
      select jsonb_build_object(
        'deliveries', count(*) filter (where outcome = 'delivered'),
        'failures', count(*) filter (where outcome <> 'delivered'),
        'latencyMsP50', percentile_cont(0.5) within group (order by duration_ms),
        'latencyMsP95', percentile_cont(0.95) within group (order by duration_ms))
        from public.dynamics_sync_attempts
       where started_at > now() - interval '1 hour'),
    'lastSuccessAt', (
      select coalesce(finished_at, started_at) from public.dynamics_sync_attempts
       where outcome = 'delivered' order by started_at desc limit 1),
    'failingSince', (select failing_since from public.sync_delivery_health),
    'pause', (
      select jsonb_build_object(
        'paused', public.sync_delivery_paused(p_default_enabled),
        'pausedBy', c.paused_by, 'pausedAt', c.paused_at, 'reason', c.pause_reason,
        'resumedBy', c.resumed_by, 'resumedAt', c.resumed_at)
        from (select 1) one left join public.sync_control c on true),
    'lastReconciliation', (
      select jsonb_build_object('runId', r.id, 'status', r.status, 'startedAt', r.started_at,
        'finishedAt', r.finished_at, 'checked', r.checked, 'drift', r.drift,
        'enqueued', r.enqueued, 'unknown', r.unknown, 'requests', r.requests, 'error', r.error)
        from public.sync_reconcile_runs r order by r.id desc limit 1),
    'openAlerts', (
      select coalesce(jsonb_object_agg(cause, n), '{}'::jsonb)
        from (select cause, count(*) as n from public.sync_alerts where status = 'open'
               group by cause) a)
  )
$$;

revoke execute on function public.begin_reconcile_run(int),
  public.reconcile_listings_page(bigint, jsonb, uuid, uuid, text, int),
  public.finish_reconcile_run(bigint, text, int),
  public.release_reconcile_run(bigint, int),
  public.sync_health(boolean)
  from public, anon, authenticated;
grant execute on function public.begin_reconcile_run(int),
  public.reconcile_listings_page(bigint, jsonb, uuid, uuid, text, int),
  public.finish_reconcile_run(bigint, text, int),
  public.release_reconcile_run(bigint, int),
  public.sync_health(boolean)
  to service_role;

alter table public.sync_reconcile_runs enable row level security;
revoke all on public.sync_reconcile_runs from public, anon, authenticated;
grant all on public.sync_reconcile_runs to service_role;

-- Hourly on Supabase (pg_cron); the local stack runs it on a timer.
do $$
begin
  if exists (select 1 from pg_catalog.pg_extension where extname = 'pg_cron') then
    perform cron.schedule('hlf-sync-reconcile', '40 * * * *',
      $job$select public.invoke_sync_function('sync-reconcile', '{}'::jsonb)$job$);
  end if;
end
$$;
