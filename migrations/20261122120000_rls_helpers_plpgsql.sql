-- Row-level security helpers, made cheap per row. The policies call
-- `private.can_view_mentor(mentor_id)` (and friends) for every row they check. As SECURITY DEFINER
-- SQL functions with a fixed search_path they can never be inlined, and Postgres planned their
-- query again on every call (measured: 54-116 ms for one list page of 100 mentors). In plpgsql the
-- plan of the query inside is prepared once per session and reused, so a check costs an index probe.
-- Same rules as before: coordinators see mentors of the chapters they coordinate, peer mentors
-- their own rows. A set-based policy (`mentor_id in (select <all visible ids>)`) was tried and
-- measured too: it made every single-mentor lookup build the coordinator's whole visible set
-- (10-15 ms for a 2,000-mentor chapter), so lookups by mentor stay per row.

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

revoke all on function private.viewable_mentor_ids() from public;
grant execute on function private.viewable_mentor_ids() to authenticated, service_role;
