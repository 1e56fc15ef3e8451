-- The inbound ledger: every accepted webhook from Dynamics, once (idempotency by event_id).

-- Inbound ledger: `insert ... on conflict (event_id) do nothing` and the row count tell a new
-- webhook (1) from a duplicate delivery (0).
-- status: 'applied' (the event changed something or confirmed a delivery) | 'ignored' (nothing to
-- apply it to); the row is written complete, with its verdict, in the statement that applies it.
-- effect: free text describing what applying it changed.
create table public.cert_notification_log (
  id bigint generated always as identity primary key,
  event_id uuid not null,
  event_type text not null check (length(event_type) between 1 and 200),
  mentor_id uuid,
  received_at timestamptz not null default now(),
  signature_scheme text check (length(signature_scheme) <= 50),
  payload jsonb not null,
  status text not null check (status in ('applied', 'ignored')),
  effect text check (length(effect) <= 2000),
  processed_at timestamptz
);
create unique index cert_notification_log_event_id_key on public.cert_notification_log (event_id);
create index cert_notification_log_mentor_id_idx on public.cert_notification_log (mentor_id, id);
-- Retention: the table is append-only in time order, so a tiny BRIN index finds the old end cheaply.
create index cert_notification_log_received_at_brin on public.cert_notification_log
  using brin (received_at);
