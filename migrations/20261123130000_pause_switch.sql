-- The pause switch: pausing and resuming delivery is a row (who, when, why), not an environment
-- variable. Until the row exists (a fresh install) the DYNAMICS_SYNC_ENABLED flag decides; the
-- first pause_sync() or resume_sync() creates it and from then on the row wins. While paused the
-- dispatcher holds due events as it does with the flag off; on resume the next sweep releases them
-- and they are replayed in their original order. Service role only (the Supabase dashboard's SQL
-- editor runs as postgres, which may call them too).

create table public.sync_control (
  id boolean primary key default true check (id),
  paused boolean not null,
  paused_by text check (length(paused_by) between 1 and 200),
  paused_at timestamptz,
  pause_reason text check (length(pause_reason) <= 500),
  resumed_by text check (length(resumed_by) between 1 and 200),
  resumed_at timestamptz,
  updated_at timestamptz not null default now()
);

alter table public.sync_control enable row level security;
revoke all on public.sync_control from public, anon, authenticated;
grant all on public.sync_control to service_role;

-- Who changed the switch: the name given, else the JWT's subject or email (a user acting through
-- the API), else the database user (the dashboard's SQL editor).
create or replace function private.sync_actor(p_by text) returns text
language sql
stable
set search_path = ''
as $$
  select left(coalesce(
    nullif(pg_catalog.btrim(p_by), ''),
    nullif(pg_catalog.current_setting('request.jwt.claims', true), '')::jsonb ->> 'email',
    nullif(pg_catalog.current_setting('request.jwt.claims', true), '')::jsonb ->> 'sub',
    session_user::text
  ), 200)
$$;

/** True while delivery is paused; `p_default_enabled` is the env flag, used until the row exists. */
create or replace function public.sync_delivery_paused(p_default_enabled boolean)
returns boolean
language sql
stable
security definer
set search_path = ''
as $$
  select coalesce((select c.paused from public.sync_control c), not p_default_enabled)
$$;

create or replace function public.pause_sync(p_reason text, p_by text default null)
returns public.sync_control
language sql
security definer
set search_path = ''
as $$
  insert into public.sync_control as c (id, paused, paused_by, paused_at, pause_reason)
  values (true, true, private.sync_actor(p_by), now(), left(p_reason, 500))
  on conflict (id) do update
    set paused = true,
        paused_by = excluded.paused_by,
        paused_at = excluded.paused_at,
        pause_reason = excluded.pause_reason,
        updated_at = now()
  returning *
$$;

create or replace function public.resume_sync(p_by text default null)
returns public.sync_control
language sql
security definer
set search_path = ''
as $$
  insert into public.sync_control as c (id, paused, resumed_by, resumed_at)
  values (true, false, private.sync_actor(p_by), now())
  on conflict (id) do update
    set paused = false,
        resumed_by = excluded.resumed_by,
        resumed_at = excluded.resumed_at,
        updated_at = now()
  returning *
$$;

revoke all on function private.sync_actor(text) from public;
revoke execute on function public.sync_delivery_paused(boolean),
  public.pause_sync(text, text),
  public.resume_sync(text)
  from public, anon, authenticated;
grant execute on function public.sync_delivery_paused(boolean),
  public.pause_sync(text, text),
  public.resume_sync(text)
  to service_role;
