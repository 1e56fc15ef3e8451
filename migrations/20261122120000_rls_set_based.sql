-- Row-level security, set-based. The first policies called SECURITY DEFINER SQL helpers per row
-- (`private.can_view_mentor(mentor_id)`); Postgres cannot inline those (search_path is set), so a
-- coordinator's list page re-planned and ran them for every candidate row (measured: 54-116 ms for
-- one page of 100 mentors). Each policy now compares against the caller's mentor ids, computed once
-- per statement as a hashed subplan: `mentor_id in (select private.viewable_mentor_ids())`.
-- Same rules as before: coordinators see mentors of the chapters they coordinate, peer mentors
-- their own rows.

create or replace function private.coordinated_mentor_ids() returns setof uuid
language sql
stable
security definer
set search_path = ''
as $$
  select mc.mentor_id
    from public.chapter_memberships cm
    join public.mentor_chapters mc on mc.chapter_id = cm.chapter_id
   where cm.user_id = auth.uid() and cm.role = 'coordinator'
$$;

create or replace function private.own_mentor_ids() returns setof uuid
language sql
stable
security definer
set search_path = ''
as $$
  select m.id from public.peer_mentors m where m.user_id = auth.uid()
$$;

create or replace function private.viewable_mentor_ids() returns setof uuid
language sql
stable
security definer
set search_path = ''
as $$
  select private.coordinated_mentor_ids()
  union
  select private.own_mentor_ids()
$$;

revoke all on function private.coordinated_mentor_ids(), private.own_mentor_ids(),
  private.viewable_mentor_ids() from public;
grant execute on function private.coordinated_mentor_ids(), private.own_mentor_ids(),
  private.viewable_mentor_ids() to authenticated, service_role;

-- The coordinator's own memberships drive coordinated_mentor_ids().
create index if not exists chapter_memberships_user_role_idx
  on public.chapter_memberships (user_id, role, chapter_id);
create index if not exists peer_mentors_user_id_idx on public.peer_mentors (user_id);

drop policy peer_mentors_select on public.peer_mentors;
create policy peer_mentors_select on public.peer_mentors
  for select to authenticated
  using (id in (select private.viewable_mentor_ids()));

drop policy peer_mentors_update_coordinator on public.peer_mentors;
create policy peer_mentors_update_coordinator on public.peer_mentors
  for update to authenticated
  using (id in (select private.coordinated_mentor_ids()))
  with check (id in (select private.coordinated_mentor_ids()));

drop policy mentor_chapters_select on public.mentor_chapters;
create policy mentor_chapters_select on public.mentor_chapters
  for select to authenticated
  using (
    chapter_id in (select private.coordinated_chapter_ids())
    or mentor_id in (select private.own_mentor_ids())
  );

drop policy certifications_select on public.certifications;
create policy certifications_select on public.certifications
  for select to authenticated
  using (mentor_id in (select private.viewable_mentor_ids()));

drop policy certifications_update_coordinator on public.certifications;
create policy certifications_update_coordinator on public.certifications
  for update to authenticated
  using (mentor_id in (select private.coordinated_mentor_ids()))
  with check (mentor_id in (select private.coordinated_mentor_ids()));

do $$
declare
  p record;
begin
  for p in
    select * from (values
      ('mentor_listing_state', 'viewable_mentor_ids'),
      ('sync_events', 'viewable_mentor_ids'),
      ('mentor_sync_status', 'viewable_mentor_ids'),
      ('dynamics_sync_attempts', 'viewable_mentor_ids'),
      ('cert_notification_log', 'coordinated_mentor_ids'),
      ('sync_issues', 'coordinated_mentor_ids')
    ) as v(tbl, helper)
  loop
    execute format('drop policy %I on public.%I', p.tbl || '_select', p.tbl);
    execute format(
      'create policy %I on public.%I for select to authenticated '
      'using (mentor_id in (select private.%I()))',
      p.tbl || '_select', p.tbl, p.helper
    );
  end loop;
end
$$;
