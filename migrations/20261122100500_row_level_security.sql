-- Row-level security. A coordinator sees a mentor (and the mentor's certification and sync rows)
-- only through a chapter they coordinate, so a mentor in several chapters is visible to the
-- coordinators of any of them and to nobody else; a peer mentor sees their own rows; anon sees
-- nothing; service_role bypasses RLS. Only service_role (and SECURITY DEFINER triggers owned by
-- the migration owner) write sync and audit tables.
--
-- Helpers are SECURITY DEFINER so policies do not recurse through each other's RLS, and STABLE
-- so the planner may evaluate them once per statement where it can.

create or replace function private.coordinated_chapter_ids() returns setof uuid
language sql
stable
security definer
set search_path = ''
as $$
  select cm.chapter_id
    from public.chapter_memberships cm
   where cm.user_id = auth.uid() and cm.role = 'coordinator'
$$;

-- Chapters the caller belongs to in any role, including as a listed mentor.
create or replace function private.member_chapter_ids() returns setof uuid
language sql
stable
security definer
set search_path = ''
as $$
  select cm.chapter_id from public.chapter_memberships cm where cm.user_id = auth.uid()
  union
  select mc.chapter_id
    from public.mentor_chapters mc
    join public.peer_mentors m on m.id = mc.mentor_id
   where m.user_id = auth.uid()
$$;

create or replace function private.member_organisation_ids() returns setof uuid
language sql
stable
security definer
set search_path = ''
as $$
  select distinct c.organisation_id
    from public.chapters c
   where c.id in (select private.member_chapter_ids())
$$;

-- The per-row helpers are plpgsql: as SECURITY DEFINER SQL functions with a fixed search_path they
-- can never be inlined, and Postgres planned their query again on every call (measured: 54-116 ms
-- for one list page of 100 mentors); in plpgsql the plan is prepared once per session. A set-based
-- policy (`mentor_id in (select <all visible ids>)`) was measured too: it made every single-mentor
-- lookup build the coordinator's whole visible set (10-15 ms for a 2,000-mentor chapter).
create or replace function private.is_own_mentor(p_mentor_id uuid) returns boolean
language plpgsql
stable
security definer
set search_path = ''
as $$
begin
  return exists (
    select 1 from public.peer_mentors m where m.id = p_mentor_id and m.user_id = auth.uid()
  );
end
$$;

create or replace function private.can_coordinate_mentor(p_mentor_id uuid) returns boolean
language plpgsql
stable
security definer
set search_path = ''
as $$
begin
  return exists (
    select 1
      from public.mentor_chapters mc
      join public.chapter_memberships cm on cm.chapter_id = mc.chapter_id
     where mc.mentor_id = p_mentor_id
       and cm.user_id = auth.uid()
       and cm.role = 'coordinator'
  );
end
$$;

create or replace function private.can_view_mentor(p_mentor_id uuid) returns boolean
language plpgsql
stable
security definer
set search_path = ''
as $$
begin
  return private.can_coordinate_mentor(p_mentor_id) or private.is_own_mentor(p_mentor_id);
end
$$;

-- The mentors a caller can see, as a set: list queries drive from it instead of checking every
-- row of the table (the per-row policies still apply to what they return).
create or replace function private.viewable_mentor_ids() returns setof uuid
language sql
stable
security definer
set search_path = ''
as $$
  select mc.mentor_id
    from public.chapter_memberships cm
    join public.mentor_chapters mc on mc.chapter_id = cm.chapter_id
   where cm.user_id = auth.uid() and cm.role = 'coordinator'
  union
  select m.id from public.peer_mentors m where m.user_id = auth.uid()
$$;

-- Nothing in private is callable unless granted here; trigger functions need no grant.
revoke all on all functions in schema private from public;
grant execute on function
  private.coordinated_chapter_ids(),
  private.member_chapter_ids(),
  private.member_organisation_ids(),
  private.is_own_mentor(uuid),
  private.can_coordinate_mentor(uuid),
  private.can_view_mentor(uuid),
  private.viewable_mentor_ids(),
  private.is_iso_timestamp(text),
  private.is_valid_renewal_history(jsonb)
  to authenticated, service_role;

-- Grants are explicit so they are the same on Supabase (whose defaults grant everything to the
-- API roles) and on the stand-in: anon gets nothing, authenticated reads (rows filtered by the
-- policies below) and updates only the columns coordinators manage, service_role everything.
do $$
declare
  t text;
begin
  foreach t in array array[
    'organisations', 'chapters', 'chapter_memberships', 'peer_mentors', 'mentor_chapters',
    'certifications', 'mentor_listing_state', 'sync_events', 'mentor_sync_status',
    'dynamics_sync_attempts', 'cert_notification_log', 'sync_issues', 'sync_settings'
  ] loop
    execute format('alter table public.%I enable row level security', t);
    execute format('revoke all on public.%I from public, anon, authenticated', t);
    execute format('grant all on public.%I to service_role', t);
    -- sync_settings holds the service key: no policy, no grant, service_role only.
    if t <> 'sync_settings' then
      execute format('grant select on public.%I to authenticated', t);
    end if;
  end loop;
end
$$;
grant update (status) on public.peer_mentors to authenticated;
grant update (status, issued_at, expires_at, renewal_history) on public.certifications
  to authenticated;

create policy organisations_select_member on public.organisations
  for select to authenticated
  using (id in (select private.member_organisation_ids()));

create policy chapters_select_member on public.chapters
  for select to authenticated
  using (id in (select private.member_chapter_ids()));

create policy chapter_memberships_select on public.chapter_memberships
  for select to authenticated
  using (
    user_id = (select auth.uid())
    or chapter_id in (select private.coordinated_chapter_ids())
  );

create policy peer_mentors_select on public.peer_mentors
  for select to authenticated
  using (private.can_view_mentor(id));

create policy peer_mentors_update_coordinator on public.peer_mentors
  for update to authenticated
  using (private.can_coordinate_mentor(id))
  with check (private.can_coordinate_mentor(id));

-- A coordinator sees only the memberships of their own chapters, not where else a mentor is.
create policy mentor_chapters_select on public.mentor_chapters
  for select to authenticated
  using (
    chapter_id in (select private.coordinated_chapter_ids())
    or private.is_own_mentor(mentor_id)
  );

create policy certifications_select on public.certifications
  for select to authenticated
  using (private.can_view_mentor(mentor_id));

create policy certifications_update_coordinator on public.certifications
  for update to authenticated
  using (private.can_coordinate_mentor(mentor_id))
  with check (private.can_coordinate_mentor(mentor_id));

-- Sync rows follow the mentor's visibility; the operational ledgers are for coordinators only,
-- not for the mentor app.
do $$
declare
  p record;
begin
  for p in
    select * from (values
      ('mentor_listing_state', 'can_view_mentor'),
      ('sync_events', 'can_view_mentor'),
      ('mentor_sync_status', 'can_view_mentor'),
      ('dynamics_sync_attempts', 'can_view_mentor'),
      ('cert_notification_log', 'can_coordinate_mentor'),
      ('sync_issues', 'can_coordinate_mentor')
    ) as v(tbl, helper)
  loop
    execute format(
      'create policy %I on public.%I for select to authenticated using (private.%I(mentor_id))',
      p.tbl || '_select', p.tbl, p.helper
    );
  end loop;
end
$$;

-- Dashboard list mode. security_invoker: the caller's RLS on every underlying table applies, so
-- chapter_ids lists only the chapters the caller may see.
create view public.coordinator_sync_overview with (security_invoker = true) as
select s.mentor_id,
       m.full_name,
       m.status as mentor_status,
       array(
         select mc.chapter_id from public.mentor_chapters mc
          where mc.mentor_id = s.mentor_id order by mc.chapter_id
       ) as chapter_ids,
       s.state,
       s.listing,
       s.last_event_id,
       s.last_event_type,
       s.last_attempt_at,
       s.last_success_at,
       s.attempts,
       s.next_attempt_at,
       s.last_error,
       s.updated_at
  from public.mentor_sync_status s
  join public.peer_mentors m on m.id = s.mentor_id;

revoke all on public.coordinator_sync_overview from public, anon, authenticated;
grant select on public.coordinator_sync_overview to authenticated, service_role;

-- Realtime status updates for the app, where Supabase Realtime exists.
do $$
begin
  if exists (select 1 from pg_catalog.pg_publication where pubname = 'supabase_realtime')
    and not exists (
      select 1 from pg_catalog.pg_publication_tables
       where pubname = 'supabase_realtime' and schemaname = 'public'
         and tablename = 'mentor_sync_status'
    ) then
    alter publication supabase_realtime add table public.mentor_sync_status;
  end if;
end
$$;

-- The API roles never insert into a table with an identity column (only service_role and the
-- SECURITY DEFINER triggers do), so they need no sequence privilege at all. Supabase's default
-- privileges (and the stand-in's) grant them USAGE/SELECT/UPDATE on every sequence in public, and a
-- `setval` on the outbox sequence by any logged-in user would make every later certification change
-- fail on a duplicate key. Revoked for the existing sequences and, through default privileges, for
-- the sequences later migrations create.
revoke all on all sequences in schema public from public, anon, authenticated;
grant usage, select, update on all sequences in schema public to service_role;
alter default privileges in schema public
  revoke all on sequences from public, anon, authenticated;

-- A function is executable by PUBLIC when it is created, and a per-schema default privilege cannot
-- take that away (it only adds to the global defaults): every later migration revokes PUBLIC's
-- execute on the private functions it creates itself.
