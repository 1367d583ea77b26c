-- The security shape of the installed schema, checked from the catalogs.
\set ON_ERROR_STOP 1
\set QUIET 1
\pset format unaligned
\pset tuples_only true
\pset pager off
BEGIN;
CREATE EXTENSION copass;
SELECT plan(22);

-- every table: row-level security enabled and forced (also for its owner)
SELECT is_empty($$
    SELECT c.relname FROM pg_class c
     WHERE c.relnamespace IN ('copass'::regnamespace, 'copass_data'::regnamespace)
       AND c.relkind IN ('r', 'p') AND NOT (c.relrowsecurity AND c.relforcerowsecurity)$$,
    'every copass table has row-level security enabled and forced');
SELECT isnt_empty($$SELECT 1 FROM pg_class c WHERE c.relnamespace = 'copass_data'::regnamespace AND c.relkind = 'r'$$,
    'copass_data has tables');

-- every table with an account_id has a policy, and every policy on it
-- compares an account column with copass.current_account_id() (other
-- accounts' rows only through copass_data.has_grant)
SELECT is_empty($$
    SELECT c.relname FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = 'account_id'
     WHERE c.relnamespace = 'copass_data'::regnamespace AND c.relkind = 'r'
       AND NOT EXISTS (SELECT FROM pg_policy p WHERE p.polrelid = c.oid)$$,
    'every tenant table has a policy');
SELECT is_empty($$
    SELECT p.polname FROM pg_policy p JOIN pg_class c ON c.oid = p.polrelid
     WHERE c.relnamespace = 'copass_data'::regnamespace
       AND EXISTS (SELECT FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attname = 'account_id')
       AND coalesce(pg_get_expr(p.polqual, p.polrelid), pg_get_expr(p.polwithcheck, p.polrelid))
           !~ '^\(?\(?(grantee_)?account_id = copass\.current_account_id\(\)\)( OR copass_data\.has_grant\(account_id, sandbox_id, ''(viewer|editor)''::copass\.access_level\)\))?$'$$,
    'tenant policies compare an account column with copass.current_account_id(), other accounts'' rows only through has_grant');
SELECT matches(pg_get_viewdef('copass_data.grants_to_me'::regclass),
    'grantee_account_id = copass\.current_account_id\(\)',
    'grants_to_me compares grantee_account_id with copass.current_account_id()');
SELECT is_empty($$
    SELECT p.polname FROM pg_policy p JOIN pg_class c ON c.oid = p.polrelid
     WHERE c.relnamespace = 'copass_data'::regnamespace AND p.polroles <> '{0}'$$,
    'policies apply to every role');

-- every index on tenant data leads with an account: account_id, or on
-- connections the grantee's account, by which a grantee finds its grants
SELECT is_empty($$
    SELECT i.indexrelid::regclass FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid
     WHERE c.relnamespace = 'copass_data'::regnamespace
       AND EXISTS (SELECT FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attname = 'account_id')
       AND (SELECT a.attname FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attnum = i.indkey[0])
           NOT IN ('account_id', 'grantee_account_id')$$,
    'every index on tenant data leads with an account id');

-- functions: the API runs with the caller's rights; a definer function pins search_path
SELECT is_empty($$
    SELECT p.oid::regprocedure FROM pg_proc p
     WHERE p.pronamespace IN ('copass'::regnamespace, 'copass_data'::regnamespace)
       AND p.prosecdef
       AND NOT EXISTS (SELECT FROM unnest(p.proconfig) c WHERE c LIKE 'search\_path=pg\_catalog%')$$,
    'no SECURITY DEFINER function without a pinned search_path');
SELECT set_eq($$SELECT p.oid::regprocedure::text FROM pg_proc p
                 WHERE p.pronamespace IN ('copass'::regnamespace, 'copass_data'::regnamespace) AND p.prosecdef$$,
              ARRAY['copass.grant_access(regrole)', 'copass.revoke_access(regrole)'],
    'every function runs with the caller''s rights but grant_access and revoke_access (GRANTs made as the objects'' owner)');
SELECT is_empty($$
    SELECT p.oid::regprocedure FROM pg_proc p
     WHERE p.pronamespace IN ('copass'::regnamespace, 'copass_data'::regnamespace)
       AND p.prolang = (SELECT oid FROM pg_language WHERE lanname = 'plpgsql')
       AND NOT EXISTS (SELECT FROM unnest(p.proconfig) c WHERE c = 'search_path=pg_catalog, pg_temp')$$,
    'every PL/pgSQL function pins search_path to pg_catalog, pg_temp');

-- PUBLIC has no privileges on anything copass owns
SELECT is_empty($$
    SELECT p.oid::regprocedure::text FROM pg_proc p, aclexplode(coalesce(p.proacl, acldefault('f', p.proowner))) a
     WHERE p.pronamespace IN ('copass'::regnamespace, 'copass_data'::regnamespace) AND a.grantee = 0
    UNION ALL
    SELECT c.oid::regclass::text FROM pg_class c, aclexplode(coalesce(c.relacl, acldefault('r', c.relowner))) a
     WHERE c.relnamespace IN ('copass'::regnamespace, 'copass_data'::regnamespace) AND a.grantee = 0
    UNION ALL
    SELECT t.oid::regtype::text FROM pg_type t, aclexplode(coalesce(t.typacl, acldefault('T', t.typowner))) a
     WHERE t.typnamespace = 'copass'::regnamespace AND t.typtype IN ('e', 'c') AND a.grantee = 0
       AND NOT EXISTS (SELECT FROM pg_class c WHERE c.oid = t.typrelid AND c.relkind <> 'c')
    UNION ALL
    SELECT n.nspname::text FROM pg_namespace n, aclexplode(coalesce(n.nspacl, acldefault('n', n.nspowner))) a
     WHERE n.nspname IN ('copass', 'copass_data') AND a.grantee = 0$$,
    'PUBLIC has no privileges on copass functions, tables, views, types or schemas');
SELECT ok(NOT (SELECT prosecdef FROM pg_proc WHERE oid = 'copass_data.has_grant(uuid, uuid, copass.access_level)'::regprocedure),
    'has_grant runs with the caller''s rights');

-- the view runs with the caller's rights, so row-level security applies
SELECT ok((SELECT c.reloptions @> '{security_invoker=true}' FROM pg_class c WHERE c.oid = 'copass.sandboxes'::regclass),
    'copass.sandboxes is security_invoker');

-- volatility fits the HTTP method PostgREST will use
-- (PostgREST serves GET /rpc/f only for STABLE or IMMUTABLE functions and
-- runs it in a read-only transaction; writes must be VOLATILE, so POST)
SELECT set_eq($$SELECT proname::text FROM pg_proc WHERE pronamespace = 'copass'::regnamespace AND provolatile = 's'$$,
              ARRAY['current_account_id', 'tier_limits', 'sandbox_list_by_owner', 'sandbox_get', 'connection_list'],
    'the read functions are STABLE (GET)');
SELECT set_eq($$SELECT proname::text FROM pg_proc WHERE pronamespace = 'copass'::regnamespace AND provolatile = 'v'$$,
              ARRAY['sandbox_create', 'sandbox_update', 'sandbox_set_status', 'sandbox_delete',
                    'connection_grant', 'connection_revoke', 'grant_access', 'revoke_access'],
    'the write functions are VOLATILE (POST)');
SELECT is_empty($$SELECT oid::regprocedure FROM pg_proc WHERE pronamespace = 'copass'::regnamespace AND provolatile = 'i'$$,
    'no API function claims to be IMMUTABLE');

-- PostgREST's OpenAPI output describes what has a COMMENT
SELECT isnt(obj_description('copass'::regnamespace, 'pg_namespace'), NULL, 'schema copass has a comment');
SELECT is_empty($$SELECT oid::regprocedure FROM pg_proc WHERE pronamespace = 'copass'::regnamespace
                   AND obj_description(oid, 'pg_proc') IS NULL$$,
    'every function in copass has a comment');
SELECT is_empty($$SELECT t.oid::regtype FROM pg_type t WHERE t.typnamespace = 'copass'::regnamespace
                   AND t.typtype IN ('e', 'c') AND NOT EXISTS (SELECT FROM pg_class c WHERE c.oid = t.typrelid AND c.relkind <> 'c')
                   AND obj_description(t.oid, 'pg_type') IS NULL$$,
    'every type in copass has a comment');
SELECT isnt(obj_description('copass.sandboxes'::regclass, 'pg_class'), NULL, 'the sandboxes view has a comment');

-- every table is dumped by pg_dump with its rows
SELECT set_eq($$SELECT unnest(extconfig)::regclass::text FROM pg_extension WHERE extname = 'copass'$$,
              $$SELECT c.oid::regclass::text FROM pg_class c WHERE c.relnamespace = 'copass_data'::regnamespace AND c.relkind = 'r'$$,
    'every copass_data table is registered with pg_extension_config_dump');

-- the extension creates no roles and owns nothing outside its schemas
SELECT is_empty($$
    SELECT d.objid FROM pg_depend d JOIN pg_class c ON d.classid = 'pg_class'::regclass AND c.oid = d.objid
     WHERE d.refclassid = 'pg_extension'::regclass AND d.refobjid = (SELECT oid FROM pg_extension WHERE extname = 'copass')
       AND c.relnamespace NOT IN ('copass'::regnamespace, 'copass_data'::regnamespace)$$,
    'every relation of the extension lives in copass or copass_data');

SELECT * FROM finish();
ROLLBACK;
