-- Listing state. A mentor is publicly listed iff the mentor is active and the certification is
-- active and not yet past expires_at. That derived value is persisted in mentor_listing_state so
-- statement-level triggers can detect flips. Events are state-based: any committed change to what
-- the payload shows (the certification status as published, expiryDate, the top-5 renewal
-- snapshot) gives the mentor an event in the same transaction, not only a listing flip: an on-time
-- renewal of a listed mentor is a certification.renewed with the new expiryDate. A no-op update
-- writes nothing. Coalescing and per-mentor order live in the outbox (enqueue_sync_events
-- supersedes, claims wait).

create table public.mentor_listing_state (
  mentor_id uuid primary key references public.peer_mentors (id) on delete cascade,
  listed boolean not null,
  changed_at timestamptz not null default now()
);

-- The top-5 snapshot as the payload builder takes it (valid entries, newest issued_at first), in
-- stored form: only used to tell whether an update changed what Dynamics would see.
create or replace function private.renewal_snapshot(p_history jsonb) returns jsonb
language sql
immutable
set search_path = ''
as $$
  select coalesce(pg_catalog.jsonb_agg(s.value order by s.issued desc, s.expires desc, s.n), '[]')
    from (
      select e.value, e.n, (e.value ->> 'issued_at')::timestamptz as issued,
             (e.value ->> 'expires_at')::timestamptz as expires
        from pg_catalog.jsonb_array_elements(
               case when pg_catalog.jsonb_typeof(p_history) = 'array' then p_history
                    else '[]'::jsonb end) with ordinality as e(value, n)
       where private.is_valid_renewal_entry(e.value)
       order by issued desc, expires desc, e.n
       limit 5
    ) s
$$;

-- The certification status as the payload publishes it (revoked is sent as paused).
create or replace function private.published_certification_status(p_status text) returns text
language sql
immutable
set search_path = ''
as $$
  select case p_status when 'revoked' then 'paused' else p_status end
$$;

-- Recomputes the listing of p_mentor_ids; a mentor gets one event when its listing flipped, or when
-- it is in p_payload_changed (its payload changed without a flip). The event type follows the
-- listing: listed -> certification.renewed, unlisted -> certification.expired.
create or replace function private.refresh_listing_state(
  p_mentor_ids uuid[],
  p_payload_changed uuid[]
) returns void
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_ids uuid[];
  v_types text[];
begin
  with computed as (
    select m.id as mentor_id,
           coalesce(m.status = 'active' and c.status = 'active' and now() < c.expires_at, false)
             as listed,
           s.listed as was_listed,
           pc.mentor_id is not null as payload_changed
      from public.peer_mentors m
      left join public.certifications c on c.mentor_id = m.id
      left join public.mentor_listing_state s on s.mentor_id = m.id
      left join (select distinct u.id as mentor_id from unnest(p_payload_changed) u(id)) pc
        on pc.mentor_id = m.id
     where m.id = any(p_mentor_ids)
  ),
  written as (
    insert into public.mentor_listing_state (mentor_id, listed, changed_at)
    select mentor_id, listed, now() from computed
     where was_listed is distinct from listed
     order by mentor_id
    on conflict (mentor_id) do update
      set listed = excluded.listed, changed_at = excluded.changed_at
  )
  select array_agg(mentor_id order by mentor_id),
         array_agg(case when listed then 'certification.renewed' else 'certification.expired' end
           order by mentor_id)
    into v_ids, v_types
    from computed
   where listed <> coalesce(was_listed, false) or payload_changed;

  if v_ids is not null then
    perform public.enqueue_sync_events(v_ids, v_types);
  end if;
end
$$;

-- The one-argument form (used by the peer_mentors triggers) is the flip-only case of the above.
create or replace function private.refresh_listing_state(p_mentor_ids uuid[])
returns void
language plpgsql
security definer
set search_path = ''
as $$
begin
  perform private.refresh_listing_state(p_mentor_ids, '{}'::uuid[]);
end
$$;

-- Statement-level with transition tables: one recomputation per statement, however many rows.
create or replace function private.certifications_listing_trigger() returns trigger
language plpgsql
security definer
set search_path = ''
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
    with pairs as (
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

create trigger certifications_listing_insert
after insert on public.certifications
referencing new table as new_rows
for each statement execute function private.certifications_listing_trigger();

create trigger certifications_listing_update
after update on public.certifications
referencing old table as old_rows new table as new_rows
for each statement execute function private.certifications_listing_trigger();

create trigger certifications_listing_delete
after delete on public.certifications
referencing old table as old_rows
for each statement execute function private.certifications_listing_trigger();

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
    select array_agg(n.id) into v_ids
      from new_rows n
      join old_rows o on o.id = n.id
     where n.status is distinct from o.status;
  end if;
  if v_ids is not null then
    perform private.refresh_listing_state(v_ids);
  end if;
  return null;
end
$$;

create trigger peer_mentors_listing_insert
after insert on public.peer_mentors
referencing new table as new_rows
for each statement execute function private.peer_mentors_listing_trigger();

create trigger peer_mentors_listing_update
after update on public.peer_mentors
referencing old table as old_rows new table as new_rows
for each statement execute function private.peer_mentors_listing_trigger();
