-- One current certification per mentor, with its renewal history as versioned JSONB entries:
-- { "schema_version": 1, "issued_at": iso, "expires_at": iso, "renewed_by": uuid | null }.

-- ISO 8601 with an explicit offset and real calendar values. Checked without casting first, so
-- the result depends on nothing but the text (honestly immutable) and never raises.
create or replace function private.is_iso_timestamp(p_value text) returns boolean
language plpgsql
immutable
set search_path = ''
as $$
declare
  m text[];
begin
  m := pg_catalog.regexp_match(
    p_value,
    '^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d{1,6})?(Z|[+-](\d{2}):(\d{2}))$'
  );
  if m is null then
    return false;
  end if;
  if m[1]::int < 1 or m[2]::int not between 1 and 12 or m[3]::int < 1
    or m[4]::int > 23 or m[5]::int > 59 or m[6]::int > 59
    or coalesce(m[9]::int, 0) > 15 or coalesce(m[10]::int, 0) > 59 then
    return false;
  end if;
  return m[3]::int <= extract(
    day from pg_catalog.make_date(m[1]::int, m[2]::int, 1) + interval '1 month - 1 day'
  );
end
$$;

create or replace function private.is_valid_renewal_history(p_history jsonb) returns boolean
language plpgsql
immutable
set search_path = ''
as $$
declare
  e jsonb;
begin
  if p_history is null or pg_catalog.jsonb_typeof(p_history) <> 'array' then
    return false;
  end if;
  for e in select value from pg_catalog.jsonb_array_elements(p_history) loop
    if pg_catalog.jsonb_typeof(e) <> 'object'
      or not (e ?& array['schema_version', 'issued_at', 'expires_at', 'renewed_by'])
      or e -> 'schema_version' <> '1'::jsonb
      or pg_catalog.jsonb_typeof(e -> 'issued_at') <> 'string'
      or pg_catalog.jsonb_typeof(e -> 'expires_at') <> 'string'
      or not private.is_iso_timestamp(e ->> 'issued_at')
      or not private.is_iso_timestamp(e ->> 'expires_at')
      or pg_catalog.jsonb_typeof(e -> 'renewed_by') not in ('null', 'string')
      or (pg_catalog.jsonb_typeof(e -> 'renewed_by') = 'string' and (e ->> 'renewed_by') !~*
        '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$')
    then
      return false;
    end if;
    if (e ->> 'expires_at')::timestamptz <= (e ->> 'issued_at')::timestamptz then
      return false;
    end if;
  end loop;
  return true;
end
$$;

-- CHECK constraints run as the writing role.
grant execute on function private.is_iso_timestamp(text), private.is_valid_renewal_history(jsonb)
  to authenticated, service_role;

create table public.certifications (
  id uuid primary key default gen_random_uuid(),
  mentor_id uuid not null unique references public.peer_mentors (id) on delete cascade,
  status text not null default 'active'
    check (status in ('active', 'expired', 'paused', 'revoked')),
  issued_at timestamptz not null,
  expires_at timestamptz not null,
  renewal_history jsonb not null default '[]'::jsonb
    constraint certifications_renewal_history_valid
    check (private.is_valid_renewal_history(renewal_history)),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  constraint certifications_expires_after_issue check (expires_at > issued_at)
);
-- The nightly job's scan: active certifications by expiry.
create index certifications_active_expires_at_idx on public.certifications (expires_at)
  where status = 'active';

create trigger certifications_touch_updated_at
before update on public.certifications
for each row execute function private.touch_updated_at();

-- Renewal: new dates, one history entry, reactivation. SECURITY INVOKER so the caller's RLS
-- decides which certifications they may renew; an invisible id reads as "not found".
create or replace function public.append_certification_renewal(
  p_certification_id uuid,
  p_issued_at timestamptz,
  p_expires_at timestamptz,
  p_renewed_by uuid default auth.uid()
) returns public.certifications
language plpgsql
security invoker
set search_path = ''
as $$
declare
  renewed public.certifications;
  entries int;
begin
  update public.certifications c
     set issued_at = p_issued_at,
         expires_at = p_expires_at,
         status = 'active',
         renewal_history = c.renewal_history || pg_catalog.jsonb_build_array(
           pg_catalog.jsonb_build_object(
             'schema_version', 1,
             'issued_at', pg_catalog.to_char(p_issued_at at time zone 'UTC',
               'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
             'expires_at', pg_catalog.to_char(p_expires_at at time zone 'UTC',
               'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
             'renewed_by', p_renewed_by
           )
         )
   where c.id = p_certification_id
  returning * into renewed;
  if not found then
    raise exception 'certification % not found', p_certification_id
      using errcode = 'no_data_found';
  end if;
  entries := pg_catalog.jsonb_array_length(renewed.renewal_history);
  -- A warning, not a failure: the renewal stands, the app sees the notice and can archive.
  if entries > 500 then
    raise warning 'certification % renewal history has % entries (more than 500)',
      p_certification_id, entries
      using hint = 'archive older renewal_history entries';
  end if;
  return renewed;
end
$$;

revoke execute on function public.append_certification_renewal(uuid, timestamptz, timestamptz, uuid)
  from public, anon;
grant execute on function public.append_certification_renewal(uuid, timestamptz, timestamptz, uuid)
  to authenticated, service_role;
