-- Supabase stand-in: what a Supabase project provides and our migrations rely on, for plain
-- Postgres and PGlite. Never part of migrations/. Idempotent, and every CREATE is guarded so that
-- applying it to a real Supabase project changes nothing. Roles are cluster-wide, so two processes
-- may race to create them: duplicate_object / unique_violation from the loser is swallowed.

do $$
declare
  r record;
begin
  for r in
    select * from (values
      ('anon', 'nologin noinherit'),
      ('authenticated', 'nologin noinherit'),
      ('service_role', 'nologin noinherit bypassrls'),
      ('authenticator', 'login noinherit')
    ) as t(name, options)
  loop
    if not exists (select 1 from pg_catalog.pg_roles where rolname = r.name) then
      begin
        execute format('create role %I %s', r.name, r.options);
      exception when duplicate_object or unique_violation then
        null;
      end;
    end if;
  end loop;
end
$$;

-- PostgREST switches from authenticator to the request's role; tests and tools connect as the
-- current user and SET ROLE the same way, so it needs membership too.
do $$
declare
  r text;
begin
  foreach r in array array['anon', 'authenticated', 'service_role'] loop
    if not pg_catalog.pg_has_role('authenticator', r, 'member') then
      begin
        execute format('grant %I to authenticator', r);
      exception when duplicate_object or unique_violation then
        null;
      end;
    end if;
    if not pg_catalog.pg_has_role(current_user, r, 'member') then
      begin
        execute format('grant %I to %I', r, current_user);
      exception when duplicate_object or unique_violation then
        null;
      end;
    end if;
  end loop;
end
$$;

do $$
begin
  if not exists (select 1 from pg_catalog.pg_namespace where nspname = 'auth') then
    begin
      create schema auth;
    exception when duplicate_schema or unique_violation then
      null;
    end;
  end if;
end
$$;

-- Guarded rather than IF NOT EXISTS: no notice on every run.
do $$
begin
  if to_regclass('auth.users') is null then
    create table auth.users (
      instance_id uuid,
      id uuid primary key,
      aud varchar(255),
      role varchar(255),
      email varchar(255),
      phone text,
      raw_app_meta_data jsonb not null default '{}'::jsonb,
      raw_user_meta_data jsonb not null default '{}'::jsonb,
      is_anonymous boolean not null default false,
      created_at timestamptz not null default now(),
      updated_at timestamptz not null default now()
    );

  end if;
end
$$;

-- The same definitions Supabase ships: the JWT arrives as request.jwt.claims (PostgREST 9+), with
-- the legacy per-claim settings read first.
do $$
begin
  if to_regprocedure('auth.jwt()') is null then
    create function auth.jwt() returns jsonb
    language sql stable
    as $f$
      select coalesce(
        nullif(current_setting('request.jwt.claim', true), ''),
        nullif(current_setting('request.jwt.claims', true), '')
      )::jsonb
    $f$;
  end if;
  if to_regprocedure('auth.uid()') is null then
    create function auth.uid() returns uuid
    language sql stable
    as $f$
      select coalesce(
        nullif(current_setting('request.jwt.claim.sub', true), ''),
        (nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'sub')
      )::uuid
    $f$;
  end if;
  if to_regprocedure('auth.role()') is null then
    create function auth.role() returns text
    language sql stable
    as $f$
      select coalesce(
        nullif(current_setting('request.jwt.claim.role', true), ''),
        (nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'role')
      )::text
    $f$;
  end if;
end
$$;

grant usage on schema public to anon, authenticated, service_role;

-- On a real project the auth schema belongs to supabase_auth_admin and already carries these grants.
do $$
begin
  grant usage on schema auth to anon, authenticated, service_role;
  grant all on auth.users to service_role;
  grant execute on function auth.jwt(), auth.uid(), auth.role() to anon, authenticated, service_role;
exception when insufficient_privilege then
  null;
end
$$;

-- Supabase grants the API roles everything in public by default; row-level security is what
-- protects rows, and migrations revoke explicitly where a table must stay closed.
do $$
declare
  kind text;
begin
  foreach kind in array array['tables', 'sequences', 'functions'] loop
    execute format(
      'alter default privileges for role %I in schema public grant all on %s to anon, authenticated, service_role',
      current_user, kind
    );
  end loop;
end
$$;
