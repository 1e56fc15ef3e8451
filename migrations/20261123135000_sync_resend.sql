-- Coordinators resend a mentor's current state (sync-resend). The request is checked, limited and
-- audited here, so the rule holds whoever calls it (the function, or PostgREST's RPC directly):
-- only a coordinator of one of the mentor's chapters (or the service role) may ask, at most once a
-- minute per mentor, and every request, granted or refused, is a row naming who asked.

create table public.sync_resend_requests (
  id bigint generated always as identity primary key,
  mentor_id uuid not null references public.peer_mentors (id) on delete cascade,
  -- auth.uid() of the coordinator; null when the service role asked.
  requested_by uuid,
  requester_role text not null check (requester_role in ('authenticated', 'service_role')),
  -- resend: a new event with the mentor's current state; recover: a dead letter re-queued as is.
  kind text not null check (kind in ('resend', 'recover')),
  outcome text not null check (outcome in ('accepted', 'rate_limited')),
  event_id uuid,
  requested_at timestamptz not null default now()
);
create index sync_resend_requests_mentor_idx on public.sync_resend_requests
  (mentor_id, requested_at desc) where outcome = 'accepted';

alter table public.sync_resend_requests enable row level security;
revoke all on public.sync_resend_requests from public, anon, authenticated;
grant all on public.sync_resend_requests to service_role;
grant select on public.sync_resend_requests to authenticated;
create policy sync_resend_requests_select on public.sync_resend_requests
  for select to authenticated
  using (private.can_coordinate_mentor(mentor_id));

-- Outcome 'accepted' with the new event, 'rate_limited' with the seconds until the next allowed
-- request, or 'not_found' (no such mentor, or one the caller does not coordinate: the same answer,
-- so the function does not reveal which mentors exist).
create or replace function public.request_sync_resend(p_mentor_id uuid)
returns table (outcome text, event_id uuid, retry_after_seconds int)
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_role text := auth.role();
  v_listed boolean;
  v_last timestamptz;
  v_event uuid;
begin
  if v_role is distinct from 'service_role'
     and not (v_role = 'authenticated' and private.can_coordinate_mentor(p_mentor_id)) then
    return query select 'not_found'::text, null::uuid, null::int;
    return;
  end if;
  select coalesce(s.listed, false) into v_listed
    from public.peer_mentors m
    left join public.mentor_listing_state s on s.mentor_id = m.id
   where m.id = p_mentor_id;
  if not found then
    return query select 'not_found'::text, null::uuid, null::int;
    return;
  end if;
  -- Serialises requests for one mentor, so two at once cannot both pass the limit.
  perform pg_catalog.pg_advisory_xact_lock(pg_catalog.hashtextextended(p_mentor_id::text, 13));
  select max(r.requested_at) into v_last
    from public.sync_resend_requests r
   where r.mentor_id = p_mentor_id and r.kind = 'resend' and r.outcome = 'accepted';
  if v_last is not null and v_last > pg_catalog.now() - interval '1 minute' then
    insert into public.sync_resend_requests (mentor_id, requested_by, requester_role, kind, outcome)
    values (p_mentor_id, auth.uid(), v_role, 'resend', 'rate_limited');
    return query select 'rate_limited'::text, null::uuid,
      greatest(1, ceil(extract(epoch from v_last + interval '1 minute' - pg_catalog.now())))::int;
    return;
  end if;
  select e.event_id into v_event
    from public.enqueue_sync_event(p_mentor_id,
      case when v_listed then 'certification.renewed' else 'certification.expired' end) e;
  insert into public.sync_resend_requests
    (mentor_id, requested_by, requester_role, kind, outcome, event_id)
  values (p_mentor_id, auth.uid(), v_role, 'resend', 'accepted', v_event);
  return query select 'accepted'::text, v_event, null::int;
end
$$;

revoke execute on function public.request_sync_resend(uuid) from public, anon;
grant execute on function public.request_sync_resend(uuid) to authenticated, service_role;
