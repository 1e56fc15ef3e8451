-- Audit: every dispatch attempt, and the issues coordinators are told about (drift found by an
-- inbound webhook, renewal entries a payload had to leave out).

create table public.dynamics_sync_attempts (
  id bigint generated always as identity primary key,
  event_id uuid not null references public.sync_events (event_id) on delete cascade,
  mentor_id uuid not null references public.peer_mentors (id) on delete cascade,
  attempt int not null check (attempt >= 1),
  dispatcher text not null check (length(dispatcher) between 1 and 200),
  started_at timestamptz not null,
  finished_at timestamptz,
  duration_ms int check (duration_ms >= 0),
  http_status int check (http_status between 100 and 599),
  outcome text not null check (outcome in ('delivered', 'retryable', 'permanent', 'auth')),
  error_code text check (length(error_code) <= 100),
  -- Redacted by the application before it gets here; bounded so a response body cannot bloat it.
  error text check (length(error) <= 2000),
  created_at timestamptz not null default now()
);
create index dynamics_sync_attempts_event_id_idx on public.dynamics_sync_attempts (event_id, attempt);
create index dynamics_sync_attempts_mentor_id_idx on public.dynamics_sync_attempts (mentor_id, id);
-- Health's last-hour figures, and retention's old end (BRIN: append-only in time order, so a tiny
-- index costs the dispatcher's inserts next to nothing).
create index dynamics_sync_attempts_started_at_idx on public.dynamics_sync_attempts (started_at);
create index dynamics_sync_attempts_created_at_brin on public.dynamics_sync_attempts
  using brin (created_at);

create or replace function private.sync_attempts_status_trigger() returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  update public.mentor_sync_status s
     set last_attempt_at = greatest(s.last_attempt_at, a.last_attempt_at),
         last_success_at = greatest(s.last_success_at, a.last_success_at),
         updated_at = now()
    from (
      select mentor_id,
             max(coalesce(finished_at, started_at)) as last_attempt_at,
             max(coalesce(finished_at, started_at)) filter (where outcome = 'delivered')
               as last_success_at
        from new_rows
       group by mentor_id
    ) a
   where s.mentor_id = a.mentor_id;
  return null;
end
$$;

create trigger dynamics_sync_attempts_status
after insert on public.dynamics_sync_attempts
referencing new table as new_rows
for each statement execute function private.sync_attempts_status_trigger();

create table public.sync_issues (
  id bigint generated always as identity primary key,
  mentor_id uuid not null references public.peer_mentors (id) on delete cascade,
  -- invalid_renewal_history: a payload was built without some stored entries (data written past
  -- the rules, e.g. with the guard trigger off); it is still sent, and coordinators see this.
  kind text not null constraint sync_issues_kind_check
    check (kind in ('drift', 'invalid_renewal_history')),
  event_id uuid,
  detail jsonb not null default '{}'::jsonb,
  created_at timestamptz not null default now()
);
create index sync_issues_mentor_kind_idx on public.sync_issues (mentor_id, kind);
