-- Audit and ledgers: every dispatch attempt, the inbound webhook ledger (idempotency by event_id),
-- and drift/dead-letter issues for coordinators.

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

-- Inbound ledger: `insert ... on conflict (event_id) do nothing` and the row count tell a new
-- webhook (1) from a duplicate delivery (0).
-- status: 'received' | 'applied' | 'ignored' | 'failed'; effect: free text describing what applying
-- it changed.
create table public.cert_notification_log (
  id bigint generated always as identity primary key,
  event_id uuid not null,
  event_type text not null check (length(event_type) between 1 and 200),
  mentor_id uuid,
  received_at timestamptz not null default now(),
  signature_scheme text check (length(signature_scheme) <= 50),
  payload jsonb not null,
  status text not null default 'received'
    check (status in ('received', 'applied', 'ignored', 'failed')),
  effect text check (length(effect) <= 2000),
  processed_at timestamptz
);
create unique index cert_notification_log_event_id_key on public.cert_notification_log (event_id);
create index cert_notification_log_mentor_id_idx on public.cert_notification_log (mentor_id, id);

create table public.sync_issues (
  id bigint generated always as identity primary key,
  mentor_id uuid not null references public.peer_mentors (id) on delete cascade,
  kind text not null check (kind in ('drift', 'dead_letter')),
  event_id uuid,
  detail jsonb not null default '{}'::jsonb,
  created_at timestamptz not null default now(),
  resolved_at timestamptz
);
create index sync_issues_open_idx on public.sync_issues (mentor_id, kind) where resolved_at is null;
