-- A mass expiry spent a third of its statement in LLVM (issue 14, found with auto_explain): the
-- listing trigger joins the transition tables, whose row counts the planner can only guess, and
-- for 10,000 expired certifications it guessed 500,000 pairs; the plan's cost passed every JIT
-- threshold and compiling it took about 200 ms of a 1.0 s `expire_due_certifications()`, for a
-- query that runs in 30 ms. The trigger's statements now run with JIT off. The pairs are also
-- materialised, so the status comparison runs once per pair rather than once per aggregate and
-- old/new mentor.
create or replace function private.certifications_listing_trigger() returns trigger
language plpgsql
security definer
set search_path = ''
set jit = off
as $$
declare
  v_ids uuid[];
  v_changed uuid[];
begin
  if tg_op = 'INSERT' then
    select array_agg(distinct mentor_id) into v_ids from new_rows;
  elsif tg_op = 'DELETE' then
    select array_agg(distinct mentor_id) into v_ids from old_rows;
  else
    with pairs as materialized (
      select n.mentor_id, o.mentor_id as old_mentor_id,
             (n.status, n.expires_at, n.mentor_id) is distinct from
               (o.status, o.expires_at, o.mentor_id) as listing_inputs_changed,
             -- CASE, not OR: the snapshots are computed only when nothing cheaper decided.
             case
               when (private.published_certification_status(n.status), n.expires_at)
                    is distinct from (private.published_certification_status(o.status), o.expires_at)
                 then true
               when n.renewal_history is not distinct from o.renewal_history then false
               else private.renewal_snapshot(n.renewal_history)
                    is distinct from private.renewal_snapshot(o.renewal_history)
             end as payload_changed
        from new_rows n
        join old_rows o on o.id = n.id
    )
    select array_agg(distinct x.mentor_id) filter (where p.listing_inputs_changed or p.payload_changed),
           array_agg(distinct p.mentor_id) filter (where p.payload_changed)
      into v_ids, v_changed
      from pairs p
      cross join lateral (values (p.mentor_id), (p.old_mentor_id)) as x(mentor_id);
  end if;
  if v_ids is not null then
    perform private.refresh_listing_state(v_ids, coalesce(v_changed, '{}'::uuid[]));
  end if;
  return null;
end
$$;
