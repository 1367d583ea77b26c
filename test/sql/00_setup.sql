-- Install copass the way a database owner who is not a superuser does (it is
-- a trusted extension), then give an API role access with copass.grant_access.
\set VERBOSITY terse
CREATE ROLE regress_copass_owner;
CREATE ROLE regress_copass_api;
CREATE ROLE regress_copass_anon;
CREATE ROLE regress_copass_other;
SELECT format('GRANT CREATE ON DATABASE %I TO regress_copass_owner', current_database()) \gexec

-- try(sql): run one statement, answer 'ok' or its SQLSTATE and message
CREATE SCHEMA regress;
GRANT USAGE ON SCHEMA regress TO PUBLIC;
CREATE FUNCTION regress.try(sql text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE sql;
    RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
    RETURN SQLSTATE || ': ' || SQLERRM;
END
$$;

SET ROLE regress_copass_owner;
CREATE EXTENSION copass;
SELECT extversion, extowner::regrole FROM pg_extension WHERE extname = 'copass';
SELECT copass.grant_access('regress_copass_api');
-- grant_access takes a role, not NULL
SELECT regress.try($$SELECT copass.grant_access(NULL)$$);
RESET ROLE;

-- a role that did not create the extension cannot hand out access
SET ROLE regress_copass_other;
SELECT regress.try($$SELECT copass.grant_access('regress_copass_other')$$);
RESET ROLE;

-- the API role can reach the API; a role without grant_access cannot
SET ROLE regress_copass_api;
SELECT copass.current_account_id() IS NULL AS no_account;
RESET ROLE;
SET ROLE regress_copass_anon;
SELECT regress.try($$SELECT copass.current_account_id()$$);
SELECT regress.try($$SELECT * FROM copass.sandboxes$$);
SELECT regress.try($$SELECT copass.tier_limits('free')$$);
RESET ROLE;

-- the default tiers
SELECT * FROM copass_data.tiers ORDER BY tier;

-- revoke_access takes back all that grant_access gave: afterwards the role
-- holds nothing, so it can be dropped
CREATE ROLE regress_copass_temp;
SET ROLE regress_copass_owner;
SELECT copass.grant_access('regress_copass_temp');
SELECT has_function_privilege('regress_copass_temp', 'copass.sandbox_get(uuid)', 'EXECUTE') AS granted;
SELECT copass.revoke_access('regress_copass_temp');
SELECT has_function_privilege('regress_copass_temp', 'copass.sandbox_get(uuid)', 'EXECUTE') AS still_granted;
SELECT regress.try($$SELECT copass.revoke_access(NULL)$$);
RESET ROLE;
DROP ROLE regress_copass_temp;
-- and only the extension's owner may call either
SET ROLE regress_copass_api;
SELECT regress.try($$SELECT copass.grant_access('regress_copass_anon')$$);
SELECT regress.try($$SELECT copass.revoke_access('regress_copass_api')$$);
RESET ROLE;
