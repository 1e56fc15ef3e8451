-- Dispatch rounds, counted apart from HTTP attempts: `attempts` is what the audit log shows (one per
-- request), `rounds` is how many times a dispatcher claimed the event, which is what dead-lettering
-- counts (SYNC_MAX_ATTEMPTS).
alter table public.sync_events
  add column rounds int not null default 0 check (rounds >= 0);
