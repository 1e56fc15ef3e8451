-- The dispatch nudge: every insert of sync events wakes dispatch once per statement (pg_notify for
-- a local listener, pg_net to the edge functions where configured). A missing nudge only delays
-- delivery until the next sync-retry sweep.

-- Service-only settings, used when Vault is absent: hlf_functions_url, hlf_service_role_key.
create table public.sync_settings (
  key text primary key check (key ~ '^[a-z0-9_]{1,64}$'),
  value text not null,
  updated_at timestamptz not null default now()
);

-- Guarded call of an edge function through pg_net. Does nothing unless pg_net is installed and a
-- base URL and service key are configured (Vault secrets, else sync_settings). Never raises: a
-- missing nudge only delays delivery until the next sync-retry sweep. Returns the pg_net request
-- id, or null when nothing was sent.
create or replace function public.invoke_sync_function(p_name text, p_body jsonb)
returns bigint
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_url text;
  v_key text;
  v_request bigint;
begin
  -- pg_net installed means net.http_post exists (checked by name, so a test double works too).
  if pg_catalog.to_regproc('net.http_post') is null then
    return null;
  end if;
  if exists (select 1 from pg_catalog.pg_namespace where nspname = 'vault') then
    execute 'select max(decrypted_secret) filter (where name = $1),
                    max(decrypted_secret) filter (where name = $2)
               from vault.decrypted_secrets where name in ($1, $2)'
      into v_url, v_key using 'hlf_functions_url', 'hlf_service_role_key';
  end if;
  v_url := coalesce(v_url,
    (select value from public.sync_settings where key = 'hlf_functions_url'));
  v_key := coalesce(v_key,
    (select value from public.sync_settings where key = 'hlf_service_role_key'));
  if v_url is null or v_key is null then
    return null;
  end if;
  execute 'select net.http_post(url := $1, body := $2, headers := $3)'
    into v_request
    using pg_catalog.rtrim(v_url, '/') || '/' || p_name,
      coalesce(p_body, '{}'::jsonb),
      pg_catalog.jsonb_build_object(
        'Content-Type', 'application/json',
        'Authorization', 'Bearer ' || v_key
      );
  return v_request;
exception when others then
  -- SQLSTATE only: the message could echo the URL or the key.
  raise warning 'invoke_sync_function(%) skipped: SQLSTATE %', p_name, sqlstate;
  return null;
end
$$;

revoke execute on function public.invoke_sync_function(text, jsonb) from public, anon, authenticated;
grant execute on function public.invoke_sync_function(text, jsonb) to service_role;

-- Nudge dispatch once per statement: pg_notify for a local listener, and pg_net to the edge
-- function where configured. Up to 20 events are posted one by one in the shape of a Supabase
-- Database Webhook; a larger batch gets a single sync-retry sweep (and a single notification)
-- instead of flooding the functions.
create or replace function private.sync_events_nudge_trigger() returns trigger
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_count int;
  r record;
begin
  select count(*) into v_count from inserted_rows;
  if v_count = 0 then
    return null;
  end if;
  if v_count > 20 then
    perform pg_catalog.pg_notify('dynamics_sync',
      pg_catalog.jsonb_build_object('sweep', true, 'count', v_count)::text);
    perform public.invoke_sync_function('sync-retry', '{}'::jsonb);
    return null;
  end if;
  for r in select * from inserted_rows order by id loop
    perform pg_catalog.pg_notify('dynamics_sync',
      pg_catalog.jsonb_build_object('event_id', r.event_id, 'mentor_id', r.mentor_id)::text);
    perform public.invoke_sync_function(
      case r.event_type
        when 'certification.expired' then 'certification-expired'
        else 'certification-renewed'
      end,
      pg_catalog.jsonb_build_object(
        'type', 'INSERT',
        'table', 'sync_events',
        'schema', 'public',
        'record', pg_catalog.to_jsonb(r),
        'old_record', null
      )
    );
  end loop;
  return null;
end
$$;

create trigger sync_events_nudge
after insert on public.sync_events
referencing new table as inserted_rows
for each statement execute function private.sync_events_nudge_trigger();
