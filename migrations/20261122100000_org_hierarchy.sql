-- Organisation hierarchy: organisations -> chapters; users belong to chapters as coordinators or
-- peer mentors; peer mentors (the people listed on the HLF portal) may belong to several chapters.

create schema if not exists private;

-- Policy helpers and CHECK functions live here; the API roles may execute what is granted, but
-- the schema is not exposed through PostgREST.
grant usage on schema private to anon, authenticated, service_role;

create or replace function private.touch_updated_at() returns trigger
language plpgsql
set search_path = ''
as $$
begin
  new.updated_at := now();
  return new;
end
$$;

create table public.organisations (
  id uuid primary key default gen_random_uuid(),
  name text not null check (length(name) between 1 and 200),
  created_at timestamptz not null default now()
);

create table public.chapters (
  id uuid primary key default gen_random_uuid(),
  organisation_id uuid not null references public.organisations (id) on delete cascade,
  name text not null check (length(name) between 1 and 200),
  created_at timestamptz not null default now()
);
create index chapters_organisation_id_idx on public.chapters (organisation_id);

create table public.chapter_memberships (
  user_id uuid not null references auth.users (id) on delete cascade,
  chapter_id uuid not null references public.chapters (id) on delete cascade,
  role text not null check (role in ('coordinator', 'peer_mentor')),
  created_at timestamptz not null default now(),
  primary key (user_id, chapter_id, role)
);
create index chapter_memberships_chapter_id_idx on public.chapter_memberships (chapter_id, role);

create table public.peer_mentors (
  id uuid primary key default gen_random_uuid(),
  -- The mentor's own login, when they have one.
  user_id uuid unique references auth.users (id) on delete set null,
  full_name text not null check (length(full_name) between 1 and 200),
  email text check (length(email) <= 320),
  phone text check (length(phone) <= 40),
  status text not null default 'active' check (status in ('active', 'paused')),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);

create trigger peer_mentors_touch_updated_at
before update on public.peer_mentors
for each row execute function private.touch_updated_at();

create table public.mentor_chapters (
  mentor_id uuid not null references public.peer_mentors (id) on delete cascade,
  chapter_id uuid not null references public.chapters (id) on delete cascade,
  created_at timestamptz not null default now(),
  primary key (mentor_id, chapter_id)
);
-- Listing a chapter's mentors (coordinator dashboard, RLS helpers).
create index mentor_chapters_chapter_id_idx on public.mentor_chapters (chapter_id, mentor_id);
