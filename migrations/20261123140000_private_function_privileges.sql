-- A function is executable by PUBLIC when it is created. The private schema's rule (nothing is
-- callable unless granted; see the row-level security migration) must also hold for the functions
-- added after it, and for any added later: trigger functions and the helpers that SECURITY DEFINER
-- code calls need no grant; what runs as the writing role (the renewal-entry check behind the
-- history guard) is granted explicitly.
revoke all on all functions in schema private from public;
grant execute on function private.is_valid_renewal_entry(jsonb) to authenticated, service_role;
alter default privileges in schema private revoke execute on functions from public;
