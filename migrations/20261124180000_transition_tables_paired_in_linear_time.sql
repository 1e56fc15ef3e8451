-- Statement triggers compared their old and new rows by joining the two transition tables on id.
-- PL/pgSQL keeps a statement's plan for the session, and a statement with no parameters keeps the
-- plan made at its first call, for the transition tables' sizes at that call. After a first update
-- of one row the join was a nested loop, and every later update compared each new row with every
-- old one: a dispatcher's claim of 500 events spent 68 ms of its 110 ms in the outbox's status
-- trigger (250,000 comparisons; auto_explain in bench scenario 2), and an update of 5,000 rows took
-- 6 s where a fresh session took 50 ms. A pooled connection, and PGlite's one session, make small
-- updates first nearly always.
--
-- So no trigger statement here depends on its plan's join method any more:
-- - "which rows changed" is a set difference (EXCEPT), which every plan computes by hashing or
--   sorting both sides once; set operations treat two nulls as equal, as `is distinct from` does;
-- - "which rows entered a state" is NOT IN over the old rows, which runs as a hashed subplan;
-- - the two certifications triggers, which need each old row beside its new one, run their
--   statement with EXECUTE: planned at every call for the rows that call has (a certifications
--   update is one renewal or one expiry job, never a hot path).

create or replace function private.sync_events_status_trigger() returns trigger
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_ids uuid[];
begin
  if tg_op = 'INSERT' then
    select array_agg(distinct mentor_id) into v_ids from new_rows;
  else
    select array_agg(distinct changed.mentor_id) into v_ids
      from (
        select id, mentor_id, state, attempts, next_attempt_at, last_error, last_error_code,
               delivered_at
          from new_rows
        except
        select id, mentor_id, state, attempts, next_attempt_at, last_error, last_error_code,
               delivered_at
          from old_rows
      ) changed;
  end if;
  if v_ids is not null then
    perform private.refresh_mentor_sync_status(v_ids);
  end if;
  return null;
end
$$;

create or replace function private.sync_events_alerts_trigger() returns trigger
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_alerts jsonb;
  v_delivered uuid[];
begin
  select jsonb_agg(jsonb_build_object(
           'mentor_id', n.mentor_id,
           'summary', 'HLF Dynamics did not accept the ' || n.event_type
             || ' event; delivery gave up (dead letter)',
           'details', jsonb_build_object('eventId', n.event_id, 'eventType', n.event_type,
             'lastStatus', n.last_status, 'lastError', left(n.last_error, 500))))
    into v_alerts
    from new_rows n
   where n.state = 'failed'
     and n.id not in (select o.id from old_rows o where o.state = 'failed');
  if v_alerts is not null then
    perform private.raise_sync_alerts('dead_letter', v_alerts);
  end if;

  select array_agg(distinct n.mentor_id) into v_delivered
    from new_rows n
   where n.state = 'delivered'
     and n.id not in (select o.id from old_rows o where o.state = 'delivered');
  if v_delivered is not null then
    perform private.resolve_sync_alerts('dead_letter', v_delivered);
  end if;
  return null;
end
$$;

create or replace function private.peer_mentors_listing_trigger() returns trigger
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_ids uuid[];
begin
  if tg_op = 'INSERT' then
    select array_agg(id) into v_ids from new_rows;
  else
    select array_agg(changed.id) into v_ids
      from (select id, status from new_rows except select id, status from old_rows) changed;
  end if;
  if v_ids is not null then
    perform private.refresh_listing_state(v_ids);
  end if;
  return null;
end
$$;

-- The statements as they were (20261123110100, 20261123160000), now planned at each call.
create or replace function private.certification_status_audit_trigger() returns trigger
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_role text := private.request_role();
begin
  execute $sql$
    insert into public.certification_status_changes (certification_id, mentor_id, old_status,
      new_status, actor_role, actor_user_id, actor_organisation_ids)
    select n.id, n.mentor_id, o.status, n.status, $1, auth.uid(),
           case when $1 = 'authenticated' then private.coordinating_organisation_ids(n.mentor_id)
                else '{}' end
      from new_rows n
      join old_rows o on o.id = n.id
     where n.status is distinct from o.status
     order by n.id
  $sql$ using v_role;
  return null;
end
$$;

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
    execute $sql$
      with pairs as materialized (
        select n.mentor_id, o.mentor_id as old_mentor_id,
               (n.status, n.expires_at, n.mentor_id) is distinct from
                 (o.status, o.expires_at, o.mentor_id) as listing_inputs_changed,
               -- CASE, not OR: the snapshots are computed only when nothing cheaper decided.
               case
                 when (private.published_certification_status(n.status), n.expires_at)
                      is distinct from
                      (private.published_certification_status(o.status), o.expires_at)
                   then true
                 when n.renewal_history is not distinct from o.renewal_history then false
                 else private.renewal_snapshot(n.renewal_history)
                      is distinct from private.renewal_snapshot(o.renewal_history)
               end as payload_changed
          from new_rows n
          join old_rows o on o.id = n.id
      )
      select array_agg(distinct x.mentor_id)
               filter (where p.listing_inputs_changed or p.payload_changed),
             array_agg(distinct p.mentor_id) filter (where p.payload_changed)
        from pairs p
        cross join lateral (values (p.mentor_id), (p.old_mentor_id)) as x(mentor_id)
    $sql$ into v_ids, v_changed;
  end if;
  if v_ids is not null then
    perform private.refresh_listing_state(v_ids, coalesce(v_changed, '{}'::uuid[]));
  end if;
  return null;
end
$$;
