-- PostgREST-shaped requests: one backend, reused, as PostgREST's pool does.
-- Each request is BEGIN; set_config(role, claims, ... , true); the call;
-- COMMIT, made by the authenticator role a PostgREST deployment logs in as.
\set VERBOSITY sqlstate
CREATE ROLE regress_copass_authenticator NOINHERIT;
GRANT regress_copass_api, regress_copass_anon TO regress_copass_authenticator;
SET SESSION AUTHORIZATION regress_copass_authenticator;

-- POST /rpc/sandbox_create as account E: 201 with the sandbox as body
BEGIN;
SELECT set_config('search_path', '"copass"', true) IS NOT NULL AS search_path,
       set_config('role', 'regress_copass_api', true) IS NOT NULL AS role,
       set_config('request.jwt.claims', '{"role":"regress_copass_api","account_id":"eeeeeeee-eeee-4eee-8eee-eeeeeeeeeeee"}', true) IS NOT NULL AS claims,
       set_config('request.method', 'POST', true) IS NOT NULL AS method,
       set_config('request.path', '/rpc/sandbox_create', true) IS NOT NULL AS path;
WITH pgrst_source AS (
    SELECT pgrst_call.*
      FROM json_to_record('{"name":"e-1","owner_id":"00000000-0000-4000-8000-0000000000e1","tier":"pro"}'::json)
           AS _("name" text, "owner_id" uuid, "tier" copass.tier),
           LATERAL "copass"."sandbox_create"("name" := _."name", "owner_id" := _."owner_id", "tier" := _."tier") pgrst_call
)
SELECT pg_catalog.count(_postgrest_t) AS page_total,
       json_agg(_postgrest_t)->0->>'name' AS body_name,
       json_agg(_postgrest_t)->0->>'access' AS body_access,
       nullif(current_setting('response.status', true), '') AS response_status
  FROM (SELECT * FROM pgrst_source) _postgrest_t;
COMMIT;
SELECT current_user, nullif(current_setting('request.jwt.claims', true), '') AS claims_left;

-- GET /rpc/sandbox_list_by_owner runs in a read-only transaction: the STABLE list works
BEGIN ISOLATION LEVEL READ COMMITTED READ ONLY;
SELECT set_config('role', 'regress_copass_api', true) IS NOT NULL AS role,
       set_config('request.jwt.claims', '{"role":"regress_copass_api","account_id":"eeeeeeee-eeee-4eee-8eee-eeeeeeeeeeee"}', true) IS NOT NULL AS claims;
SELECT name, tier, access FROM "copass"."sandbox_list_by_owner"("owner_id" := '00000000-0000-4000-8000-0000000000e1');
-- GET /sandboxes?owner_id=eq.<uuid>
SELECT name FROM "copass"."sandboxes" WHERE "copass"."sandboxes"."owner_id" = '00000000-0000-4000-8000-0000000000e1'::uuid;
COMMIT;

-- a write through GET is refused by the read-only transaction (PostgREST: 405)
BEGIN READ ONLY;
SELECT set_config('role', 'regress_copass_api', true) IS NOT NULL AS role,
       set_config('request.jwt.claims', '{"account_id":"eeeeeeee-eeee-4eee-8eee-eeeeeeeeeeee"}', true) IS NOT NULL AS claims;
SELECT name FROM "copass"."sandbox_create"('e-ro', '00000000-0000-4000-8000-0000000000e1');
ROLLBACK;

-- the next requests on the same backend carry no, empty, malformed or
-- non-UUID claims after the valid one: none of them acts for account E
BEGIN;
SELECT set_config('role', 'regress_copass_api', true) IS NOT NULL AS role;
SELECT copass.current_account_id() AS no_claims;
SELECT count(*) FROM copass.sandboxes;
SELECT name FROM copass.sandbox_list_by_owner('00000000-0000-4000-8000-0000000000e1');
ROLLBACK;
BEGIN;
SELECT set_config('role', 'regress_copass_api', true) IS NOT NULL AS role,
       set_config('request.jwt.claims', '', true) IS NOT NULL AS claims;
SELECT copass.current_account_id() AS empty_claims;
SELECT name FROM copass.sandbox_create('x', '00000000-0000-4000-8000-0000000000e1');
ROLLBACK;
BEGIN;
SELECT set_config('role', 'regress_copass_api', true) IS NOT NULL AS role,
       set_config('request.jwt.claims', '{"account_id":"eeeeeeee-eeee-4eee-8eee-eeeeeeeeeeee"', true) IS NOT NULL AS claims;
SELECT copass.current_account_id() AS malformed_claims;
SELECT count(*) FROM copass.sandboxes;
ROLLBACK;
BEGIN;
SELECT set_config('role', 'regress_copass_api', true) IS NOT NULL AS role,
       set_config('request.jwt.claims', '{"role":"regress_copass_api","account_id":"eeeeeeee"}', true) IS NOT NULL AS claims;
SELECT copass.current_account_id() AS non_uuid_claim;
SELECT copass.sandbox_get((SELECT sandbox_id FROM copass_data.sandbox LIMIT 1));
ROLLBACK;

-- anonymous requests (the anon role, no JWT) reach nothing
BEGIN;
SELECT set_config('role', 'regress_copass_anon', true) IS NOT NULL AS role;
SELECT name FROM copass.sandbox_list_by_owner('00000000-0000-4000-8000-0000000000e1');
ROLLBACK;
BEGIN;
SELECT set_config('role', 'regress_copass_anon', true) IS NOT NULL AS role,
       set_config('request.jwt.claims', '{"account_id":"eeeeeeee-eeee-4eee-8eee-eeeeeeeeeeee"}', true) IS NOT NULL AS claims;
SELECT count(*) FROM copass.sandboxes;
ROLLBACK;

-- errors end the request and leave nothing half-written
BEGIN;
SELECT set_config('role', 'regress_copass_api', true) IS NOT NULL AS role,
       set_config('request.jwt.claims', '{"account_id":"eeeeeeee-eeee-4eee-8eee-eeeeeeeeeeee"}', true) IS NOT NULL AS claims;
SELECT name FROM copass.sandbox_create('e-1', '00000000-0000-4000-8000-0000000000e1', 'free');
ROLLBACK;

-- a plan prepared once and reused across roles and claims, generic or not,
-- shows each request its own account's rows only
SET plan_cache_mode = force_generic_plan;
BEGIN;
SELECT set_config('role', 'regress_copass_api', true) IS NOT NULL AS role,
       set_config('request.jwt.claims', '{"account_id":"eeeeeeee-eeee-4eee-8eee-eeeeeeeeeeee"}', true) IS NOT NULL AS claims;
PREPARE visible AS SELECT count(*) AS visible, count(DISTINCT account_id) AS accounts FROM copass.sandboxes;
PREPARE listed(uuid) AS SELECT name FROM copass.sandbox_list_by_owner($1);
EXECUTE visible;
EXECUTE listed('00000000-0000-4000-8000-0000000000e1');
COMMIT;
BEGIN;
SELECT set_config('role', 'regress_copass_api', true) IS NOT NULL AS role,
       set_config('request.jwt.claims', '{"account_id":"ffffffff-ffff-4fff-8fff-ffffffffffff"}', true) IS NOT NULL AS claims;
EXECUTE visible;
EXECUTE listed('00000000-0000-4000-8000-0000000000e1');
SELECT name FROM copass.sandbox_create('f-1', '00000000-0000-4000-8000-0000000000e1');
EXECUTE listed('00000000-0000-4000-8000-0000000000e1');
COMMIT;
BEGIN;
SELECT set_config('role', 'regress_copass_api', true) IS NOT NULL AS role;
EXECUTE visible;
COMMIT;
BEGIN;
SELECT set_config('role', 'regress_copass_api', true) IS NOT NULL AS role,
       set_config('request.jwt.claims', '{"account_id":"eeeeeeee-eeee-4eee-8eee-eeeeeeeeeeee"}', true) IS NOT NULL AS claims;
EXECUTE visible;
EXECUTE listed('00000000-0000-4000-8000-0000000000e1');
COMMIT;
DEALLOCATE ALL;
RESET plan_cache_mode;
RESET SESSION AUTHORIZATION;
