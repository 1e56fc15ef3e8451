-- One current certification per mentor, with its renewal history as versioned JSONB entries:
-- { "schema_version": 1, "issued_at": iso, "expires_at": iso, "renewed_by": uuid | null }.
--
-- One definition of a valid renewal entry, enforced on every write path, bounded in size, with the
-- renewer taken from the caller.
--
-- The entry rule matches the outbound payload schema (shared/payload.ts, RenewalEntryV1) exactly,
-- so whatever the database stores, the payload builder accepts (property-tested in
-- tests/db/renewal-entry-property.test.ts):
--   issued_at / expires_at: ISO 8601 with an explicit offset, as a UTC instant in years 0001-9999
--     (the payload renders it as `YYYY-MM-DDTHH:MM:SS.sssZ`);
--   renewed_by: null, or an RFC 4122 uuid (version 1-8, variant 10xx) or the nil / max uuid, the
--     same rule as zod's z.uuid();
--   schema_version: 1.

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

create or replace function private.is_valid_renewal_entry(p_entry jsonb) returns boolean
language plpgsql
immutable
set search_path = ''
as $$
declare
  v_issued timestamptz;
  v_expires timestamptz;
begin
  if pg_catalog.jsonb_typeof(p_entry) is distinct from 'object'
    or not (p_entry ?& array['schema_version', 'issued_at', 'expires_at', 'renewed_by'])
    or p_entry -> 'schema_version' <> '1'::jsonb
    or pg_catalog.jsonb_typeof(p_entry -> 'issued_at') <> 'string'
    or pg_catalog.jsonb_typeof(p_entry -> 'expires_at') <> 'string'
    or not private.is_iso_timestamp(p_entry ->> 'issued_at')
    or not private.is_iso_timestamp(p_entry ->> 'expires_at')
    or pg_catalog.jsonb_typeof(p_entry -> 'renewed_by') not in ('null', 'string')
    or (pg_catalog.jsonb_typeof(p_entry -> 'renewed_by') = 'string' and (p_entry ->> 'renewed_by') !~*
      '^([0-9a-f]{8}-[0-9a-f]{4}-[1-8][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}|00000000-0000-0000-0000-000000000000|ffffffff-ffff-ffff-ffff-ffffffffffff)$')
  then
    return false;
  end if;
  v_issued := (p_entry ->> 'issued_at')::timestamptz;
  v_expires := (p_entry ->> 'expires_at')::timestamptz;
  return v_expires > v_issued
    and v_issued >= '0001-01-01T00:00:00Z'::timestamptz
    and v_expires < '10000-01-01T00:00:00Z'::timestamptz;
end
$$;

-- A history is valid when it is an array of valid entries.
create or replace function private.is_valid_renewal_history(p_history jsonb) returns boolean
language sql
immutable
set search_path = ''
as $$
  select pg_catalog.jsonb_typeof(p_history) is not distinct from 'array'
     and not exists (
       select 1 from pg_catalog.jsonb_array_elements(p_history) e(value)
        where not private.is_valid_renewal_entry(e.value))
$$;

-- The history guard runs them as the writing role.
grant execute on function private.is_iso_timestamp(text), private.is_valid_renewal_history(jsonb),
  private.is_valid_renewal_entry(jsonb)
  to authenticated, service_role;

create table public.certifications (
  id uuid primary key default gen_random_uuid(),
  mentor_id uuid not null unique references public.peer_mentors (id) on delete cascade,
  status text not null default 'active'
    check (status in ('active', 'expired', 'paused', 'revoked')),
  issued_at timestamptz not null,
  expires_at timestamptz not null,
  renewal_history jsonb not null default '[]'::jsonb,
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

-- Size, validity and attribution, whichever way the history is written
-- (append_certification_renewal, a direct UPDATE, an INSERT). A trigger, not a CHECK: a CHECK
-- re-validates the history on every update of the row, so a history that became invalid anyway
-- (written with triggers off, or under an older rule) would make even a status-only update fail,
-- and with it the expiry that must remove the mentor. Checked only
-- when the history itself is written; the size first, so an oversized write is refused before its
-- entries are validated one by one.
create or replace function private.certifications_renewal_history_guard() returns trigger
language plpgsql
security invoker
set search_path = ''
as $$
declare
  v_entries int;
  v_caller uuid;
begin
  if tg_op = 'UPDATE' and new.renewal_history is not distinct from old.renewal_history then
    return new;
  end if;
  v_entries := case when pg_catalog.jsonb_typeof(new.renewal_history) = 'array'
                    then pg_catalog.jsonb_array_length(new.renewal_history) end;
  if v_entries > 5000 then
    raise exception 'renewal history of certification % would have % entries; the limit is 5000',
      new.id, v_entries
      using errcode = 'program_limit_exceeded',
            hint = 'archive older renewal_history entries before adding more';
  end if;
  if v_entries > 500 then
    raise warning 'certification % renewal history has % entries (more than 500)',
      new.id, v_entries
      using hint = 'archive older renewal_history entries';
  end if;
  if not private.is_valid_renewal_history(new.renewal_history) then
    raise exception 'renewal_history of certification % is not an array of valid v1 entries',
      new.id
      using errcode = 'check_violation',
            constraint = 'certifications_renewal_history_valid',
            hint = 'each entry: {schema_version: 1, issued_at, expires_at (ISO 8601 with offset, '
              || 'expires_at later), renewed_by: RFC 4122 uuid or null}';
  end if;
  -- An end user (a coordinator) records renewals as themselves: every entry this write adds must
  -- name the caller. Trusted roles (service_role, the owner) may attribute entries freely.
  if current_user in ('authenticated', 'anon') then
    v_caller := auth.uid();
    if exists (
      select 1 from (
        select value from pg_catalog.jsonb_array_elements(new.renewal_history)
        except all
        select value from pg_catalog.jsonb_array_elements(
          case when tg_op = 'UPDATE' and pg_catalog.jsonb_typeof(old.renewal_history) = 'array'
               then old.renewal_history else '[]'::jsonb end)
      ) added
      where pg_catalog.jsonb_typeof(added.value) = 'object'
        and (added.value -> 'renewed_by') is distinct from pg_catalog.to_jsonb(v_caller::text)
    ) then
      raise exception 'a new renewal entry must have renewed_by = the caller (auth.uid())'
        using errcode = 'insufficient_privilege';
    end if;
  end if;
  return new;
end
$$;

create trigger certifications_renewal_history_guard
before insert or update of renewal_history on public.certifications
for each row execute function private.certifications_renewal_history_guard();

-- Renewal: new dates, one history entry, reactivation. SECURITY INVOKER so the caller's RLS
-- decides which certifications they may renew; an invisible id reads as "not found". The renewer is
-- the caller: p_renewed_by is honoured only for trusted roles (service_role, the owner). The size
-- warning is the guard trigger's, which covers every write path.
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
  v_renewed_by uuid := case when current_user in ('authenticated', 'anon') then auth.uid()
                            else p_renewed_by end;
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
             'renewed_by', v_renewed_by
           )
         )
   where c.id = p_certification_id
  returning * into renewed;
  if not found then
    raise exception 'certification % not found', p_certification_id
      using errcode = 'no_data_found';
  end if;
  return renewed;
end
$$;

revoke execute on function public.append_certification_renewal(uuid, timestamptz, timestamptz, uuid)
  from public, anon;
grant execute on function public.append_certification_renewal(uuid, timestamptz, timestamptz, uuid)
  to authenticated, service_role;
