-- Who may change a shared mentor's certification status. A mentor can belong to chapters of two
-- organisations, and the coordinators of both may update the certification. Revoking stays open to
-- either, since it errs on the safe side; but a revocation is a decision, and only the organisation
-- that made it may lift it (or service_role, i.e. an operator or the service itself): otherwise a
-- coordinator of one organisation could undo the other's revocation and relist the mentor. Expiry
-- and pause are not decisions of one organisation (the nightly job and operators set them) and a
-- renewal by either lifts them, as before. Every status change is recorded with who made it, as
-- which role, on behalf of which organisations, and when.

create table public.certification_status_changes (
  id bigint generated always as identity primary key,
  certification_id uuid not null references public.certifications (id) on delete cascade,
  mentor_id uuid not null references public.peer_mentors (id) on delete cascade,
  old_status text not null,
  new_status text not null,
  -- The request's role (authenticated, service_role) or, without one, the login role.
  actor_role text not null,
  actor_user_id uuid,
  -- The organisations in which the actor coordinates the mentor: the authority behind the change.
  actor_organisation_ids uuid[] not null default '{}',
  changed_at timestamptz not null default now()
);
create index certification_status_changes_certification_idx
  on public.certification_status_changes (certification_id, id);

-- An audit trail: service_role reads it; only the trigger below writes it. Coordinators do not read
-- it (a row names the other organisation and its coordinator).
alter table public.certification_status_changes enable row level security;
revoke all on public.certification_status_changes from public, anon, authenticated, service_role;
grant select on public.certification_status_changes to service_role;

-- The role the request runs as. SET ROLE (PostgREST's `set local role`) is visible through the
-- `role` setting even inside SECURITY DEFINER functions, which change current_user only.
create or replace function private.request_role() returns text
language sql
stable
set search_path = ''
as $$
  select case when pg_catalog.current_setting('role') = 'none' then session_user::text
              else pg_catalog.current_setting('role') end
$$;

-- The organisations in which the caller coordinates a chapter the mentor belongs to.
create or replace function private.coordinating_organisation_ids(p_mentor_id uuid) returns uuid[]
language sql
stable
security definer
set search_path = ''
as $$
  select coalesce(array_agg(distinct c.organisation_id), '{}')
    from public.mentor_chapters mc
    join public.chapter_memberships cm
      on cm.chapter_id = mc.chapter_id and cm.role = 'coordinator' and cm.user_id = auth.uid()
    join public.chapters c on c.id = mc.chapter_id
   where mc.mentor_id = p_mentor_id
$$;

-- Runs only when a revoked certification's status is about to change (see WHEN below).
create or replace function private.certification_decision_guard_trigger() returns trigger
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_deciders uuid[];
begin
  if private.request_role() <> 'authenticated' then
    return new;
  end if;
  select s.actor_organisation_ids into v_deciders
    from public.certification_status_changes s
   where s.certification_id = old.id and s.new_status = old.status
   order by s.id desc
   limit 1;
  if v_deciders is null
    or not (v_deciders operator(pg_catalog.&&) private.coordinating_organisation_ids(old.mentor_id))
  then
    -- Names neither the other organisation nor its coordinator.
    raise exception 'certification % is revoked: only the organisation that revoked it may change its status',
      old.id
      using errcode = 'insufficient_privilege',
        hint = 'ask that organisation''s coordinator or an operator';
  end if;
  return new;
end
$$;

create trigger certifications_decision_guard
before update of status on public.certifications
for each row
when (old.status = 'revoked' and new.status is distinct from old.status)
execute function private.certification_decision_guard_trigger();

-- One insert per statement (a mass expiry changes thousands of rows at once).
create or replace function private.certification_status_audit_trigger() returns trigger
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_role text := private.request_role();
begin
  insert into public.certification_status_changes (certification_id, mentor_id, old_status,
    new_status, actor_role, actor_user_id, actor_organisation_ids)
  select n.id, n.mentor_id, o.status, n.status, v_role, auth.uid(),
         case when v_role = 'authenticated' then private.coordinating_organisation_ids(n.mentor_id)
              else '{}' end
    from new_rows n
    join old_rows o on o.id = n.id
   where n.status is distinct from o.status
   order by n.id;
  return null;
end
$$;

create trigger certifications_status_audit
after update on public.certifications
referencing old table as old_rows new table as new_rows
for each statement execute function private.certification_status_audit_trigger();

revoke all on function private.request_role(), private.coordinating_organisation_ids(uuid),
  private.certification_decision_guard_trigger(), private.certification_status_audit_trigger()
  from public;
