-- The benchmark database, run once by bench/run as the cluster's superuser in
-- the database "bench" of a throwaway cluster.
--
-- Roles, like a PostgREST deployment:
--   bench_api     the API role: copass.grant_access, the raw tables and the
--                 PL/pgSQL baseline; row-level security applies to it
--   bench_bypass  the same grants and BYPASSRLS: baseline (c), copass with
--                 row-level security bypassed (no policy is even planned)
--   bench_auth    LOGIN NOINHERIT member of both, the "authenticator" that
--                 the PostgREST-framed scripts connect as; each request
--                 switches role with set_config('role', ..., true)
\set ON_ERROR_STOP on
CREATE ROLE bench_api LOGIN;
CREATE ROLE bench_bypass LOGIN BYPASSRLS;
CREATE ROLE bench_auth LOGIN NOINHERIT;
GRANT bench_api, bench_bypass TO bench_auth;

CREATE EXTENSION copass;
SELECT copass.grant_access('bench_api'), copass.grant_access('bench_bypass') \g /dev/null

\ir raw.sql
\ir plpgsql.sql

-- Ids of the loaded data, computed from integers so that pgbench scripts can
-- name any account, owner or sandbox without a lookup.
--   account a        a0000000-0000-4000-8000-<100000000000 + a>
--   owner k of class c (1: owners with 100 sandboxes, 2: with 10, 3: new
--   owners of the create workload)   b<c>000000-0000-4000-8000-<100000000000 + k>
--   sandbox i        UUIDv7-shaped: 48-bit ms = 1700000000000 + i (so ids
--                    increase with i, like creation order), version 7,
--                    variant 10, the other 74 bits from md5('s' || i)
-- The pgbench scripts build the account and owner ids inline with the same
-- expressions; bench.sandbox_id() is called by the grant workload.
CREATE SCHEMA bench;
CREATE FUNCTION bench.v7(ms bigint, seed text) RETURNS uuid
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN (pg_catalog.lpad(pg_catalog.to_hex(ms), 12, '0') || '7' ||
            pg_catalog.substr(pg_catalog.md5(seed), 1, 3) || '8' ||
            pg_catalog.substr(pg_catalog.md5(seed), 4, 15))::uuid;
CREATE FUNCTION bench.sandbox_id(i bigint) RETURNS uuid
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN bench.v7(1700000000000 + i, 's' || i);
CREATE FUNCTION bench.account(a bigint) RETURNS uuid
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN ('a0000000-0000-4000-8000-' || (100000000000 + a))::uuid;
CREATE FUNCTION bench.owner(class int, k bigint) RETURNS uuid
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN ('b' || class || '000000-0000-4000-8000-' || (100000000000 + k))::uuid;
GRANT USAGE ON SCHEMA bench TO bench_api, bench_bypass;
GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA bench TO bench_api, bench_bypass;
