-- Alerts: one open alert per cause and subject (a mentor, or the whole sync when mentor_id is null),
-- counted each time the cause is seen again and resolved automatically when it clears:
--   dead_letter  an event of the mentor was dead-lettered      resolved by a delivery for the mentor
--   outage       Dynamics failing longer than the threshold    resolved by Dynamics answering again
--   drift        reconciliation found portal listings wrong    resolved by a run that finds none
--   gone         Dynamics answered 410 Gone: delivery paused   resolved by resume_sync()
-- Coordinators read the alerts about their mentors (RLS); the service role reads all. A new alert is
-- posted once to ALERT_WEBHOOK_URL by the sweep (notify_* columns), never by the dispatcher.

create table public.sync_alerts (
  id bigint generated always as identity primary key,
  cause text not null check (cause in ('dead_letter', 'outage', 'drift', 'gone')),
  mentor_id uuid references public.peer_mentors (id) on delete cascade,
  status text not null default 'open' check (status in ('open', 'resolved')),
  summary text not null check (length(summary) between 1 and 500),
  details jsonb not null default '{}'::jsonb,
  count int not null default 1 check (count >= 1),
  first_seen_at timestamptz not null default now(),
  last_seen_at timestamptz not null default now(),
  resolved_at timestamptz,
  notify_state text not null default 'pending' check (notify_state in ('pending', 'sent', 'gave_up')),
  notify_attempts int not null default 0 check (notify_attempts >= 0),
  notify_next_at timestamptz not null default now(),
  check ((status = 'resolved') = (resolved_at is not null))
);
-- The invariant "one open alert per cause and subject"; also the index every raise/resolve uses.
create unique index sync_alerts_open_key on public.sync_alerts
  (cause, (coalesce(mentor_id, '00000000-0000-0000-0000-000000000000'::uuid)))
  where status = 'open';
create index sync_alerts_mentor_idx on public.sync_alerts (mentor_id, id) where mentor_id is not null;
create index sync_alerts_notify_idx on public.sync_alerts (notify_next_at)
  where notify_state = 'pending';

-- Whether Dynamics is answering, kept by the attempts trigger below: failing_since is the start of
-- the current run of outage failures (network errors, timeouts, 5xx), null while Dynamics answers.
create table public.sync_delivery_health (
  id boolean primary key default true check (id),
  failing_since timestamptz,
  last_failure_at timestamptz,
  updated_at timestamptz not null default now()
);
insert into public.sync_delivery_health (id) values (true);

-- p_alerts: [{mentor_id, summary, details}], mentor_id null for a sync-wide alert.
create or replace function private.raise_sync_alerts(p_cause text, p_alerts jsonb)
returns void
language sql
security definer
set search_path = ''
as $$
  insert into public.sync_alerts as a (cause, mentor_id, summary, details)
  select distinct on (coalesce(r.mentor_id, '00000000-0000-0000-0000-000000000000'::uuid))
         p_cause, r.mentor_id, left(r.summary, 500), coalesce(r.details, '{}'::jsonb)
    from jsonb_to_recordset(p_alerts) as r(mentor_id uuid, summary text, details jsonb)
   order by coalesce(r.mentor_id, '00000000-0000-0000-0000-000000000000'::uuid)
  on conflict (cause, (coalesce(mentor_id, '00000000-0000-0000-0000-000000000000'::uuid)))
    where status = 'open'
  do update set count = a.count + 1,
                last_seen_at = now(),
                summary = excluded.summary,
                details = excluded.details
$$;

-- p_mentor_ids null: the sync-wide alert of that cause.
create or replace function private.resolve_sync_alerts(p_cause text, p_mentor_ids uuid[])
returns void
language sql
security definer
set search_path = ''
as $$
  update public.sync_alerts
     set status = 'resolved', resolved_at = now()
   where status = 'open'
     and cause = p_cause
     and coalesce(mentor_id, '00000000-0000-0000-0000-000000000000'::uuid) = any(
       coalesce(p_mentor_ids, array['00000000-0000-0000-0000-000000000000'::uuid]))
$$;

-- Dead letters raise one alert per mentor; a delivery for the mentor resolves it.
create or replace function private.sync_events_alerts_trigger() returns trigger
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_alerts jsonb;
  v_delivered uuid[];
begin
  select jsonb_agg(jsonb_build_object(
           'mentor_id', n.mentor_id,
           'summary', 'HLF Dynamics did not accept the ' || n.event_type
             || ' event; delivery gave up (dead letter)',
           'details', jsonb_build_object('eventId', n.event_id, 'eventType', n.event_type,
             'lastStatus', n.last_status, 'lastError', left(n.last_error, 500))))
    into v_alerts
    from new_rows n
    join old_rows o on o.id = n.id
   where n.state = 'failed' and o.state <> 'failed';
  if v_alerts is not null then
    perform private.raise_sync_alerts('dead_letter', v_alerts);
  end if;

  select array_agg(distinct n.mentor_id) into v_delivered
    from new_rows n
    join old_rows o on o.id = n.id
   where n.state = 'delivered' and o.state <> 'delivered';
  if v_delivered is not null then
    perform private.resolve_sync_alerts('dead_letter', v_delivered);
  end if;
  return null;
end
$$;

create trigger sync_events_alerts
after update on public.sync_events
referencing old table as old_rows new table as new_rows
for each statement execute function private.sync_events_alerts_trigger();

-- Attempts keep sync_delivery_health current (written only when the state flips, so a healthy
-- mass delivery never contends on the row), and a 410 Gone pauses delivery and raises `gone`.
create or replace function private.sync_attempts_alerts_trigger() returns trigger
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_first_failure timestamptz;
  v_last_failure timestamptz;
  v_last_answer timestamptz;
  v_gone boolean;
begin
  select min(a.started_at) filter (where a.outage),
         max(coalesce(a.finished_at, a.started_at)) filter (where a.outage),
         max(coalesce(a.finished_at, a.started_at)) filter (where not a.outage),
         coalesce(bool_or(a.http_status = 410), false)
    into v_first_failure, v_last_failure, v_last_answer, v_gone
    from (
      select n.*,
             n.outcome = 'retryable' and (n.http_status is null or n.http_status >= 500) as outage
        from new_rows n
       where n.http_status is not null or n.outcome = 'retryable'
    ) a;

  if v_last_answer is not null and v_last_answer >= coalesce(v_last_failure, '-infinity') then
    update public.sync_delivery_health
       set failing_since = null, updated_at = now()
     where failing_since is not null;
    if found then
      perform private.resolve_sync_alerts('outage', null);
    end if;
  elsif v_last_failure is not null then
    update public.sync_delivery_health
       set failing_since = v_first_failure, last_failure_at = v_last_failure, updated_at = now()
     where failing_since is null;
  end if;

  if v_gone then
    perform public.pause_sync(
      'HLF Dynamics answered 410 Gone: the webhook endpoint no longer exists', 'system: 410 Gone');
    perform private.raise_sync_alerts('gone', jsonb_build_array(jsonb_build_object(
      'mentor_id', null,
      'summary', 'HLF Dynamics answered 410 Gone; delivery is paused until an operator resumes it',
      'details', jsonb_build_object('at', now()))));
  end if;
  return null;
end
$$;

create trigger dynamics_sync_attempts_alerts
after insert on public.dynamics_sync_attempts
referencing new table as new_rows
for each statement execute function private.sync_attempts_alerts_trigger();

-- Resuming clears the 410 alert: the operator has dealt with the endpoint.
create or replace function private.sync_control_alerts_trigger() returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  if not new.paused then
    perform private.resolve_sync_alerts('gone', null);
  end if;
  return null;
end
$$;

create trigger sync_control_alerts
after insert or update on public.sync_control
for each row execute function private.sync_control_alerts_trigger();

-- Called by the sweep with the configured threshold (ALERT_OUTAGE_SECONDS): raises (or counts
-- again) the outage alert while Dynamics has failed continuously for at least that long.
create or replace function public.evaluate_outage_alert(p_threshold_seconds int)
returns boolean
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_since timestamptz;
begin
  select failing_since into v_since from public.sync_delivery_health;
  if v_since is null or now() - v_since < make_interval(secs => p_threshold_seconds) then
    return false;
  end if;
  perform private.raise_sync_alerts('outage', jsonb_build_array(jsonb_build_object(
    'mentor_id', null,
    'summary', 'HLF Dynamics has been unreachable or failing since '
      || to_char(v_since at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
    'details', jsonb_build_object('failingSince', v_since))));
  return true;
end
$$;

revoke all on function private.raise_sync_alerts(text, jsonb),
  private.resolve_sync_alerts(text, uuid[]),
  private.sync_events_alerts_trigger(),
  private.sync_attempts_alerts_trigger(),
  private.sync_control_alerts_trigger()
  from public;
revoke execute on function public.evaluate_outage_alert(int) from public, anon, authenticated;
grant execute on function public.evaluate_outage_alert(int) to service_role;

alter table public.sync_alerts enable row level security;
alter table public.sync_delivery_health enable row level security;
revoke all on public.sync_alerts, public.sync_delivery_health from public, anon, authenticated;
grant all on public.sync_alerts, public.sync_delivery_health to service_role;
grant select on public.sync_alerts to authenticated;
-- Coordinators see the alerts about the mentors they coordinate; sync-wide alerts are operators'.
create policy sync_alerts_select on public.sync_alerts for select to authenticated
  using (mentor_id is not null and private.can_coordinate_mentor(mentor_id));

-- Realtime for the dashboard, where Supabase Realtime exists.
do $$
begin
  if exists (select 1 from pg_catalog.pg_publication where pubname = 'supabase_realtime')
    and not exists (
      select 1 from pg_catalog.pg_publication_tables
       where pubname = 'supabase_realtime' and schemaname = 'public' and tablename = 'sync_alerts'
    ) then
    alter publication supabase_realtime add table public.sync_alerts;
  end if;
end
$$;
