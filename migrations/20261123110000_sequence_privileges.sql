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
