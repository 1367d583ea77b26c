-- copass 0.2.0 -> 0.3.0: the same rules, cheaper to check.
-- Policies and views call copass.current_account_id() directly instead of
-- through a sub-SELECT: it is STABLE and reads only settings, so a call costs
-- less than setting up the InitPlan that computed it once per statement.  The
-- grants check moves into copass_data.has_grant, which looks the grant up
-- (through grants_to_me, still the one definition of shared access) only for
-- a row the caller does not own, instead of every query preparing a hashed
-- lookup of all the caller's grants.  copass.sandboxes takes a tier's limits from
-- copass.tier_limits (which reads each tier once per query) instead of a join,
-- so a filtered and ordered read of the view can use the indexes of both
-- branches and stop at its LIMIT.

\echo Use "ALTER EXTENSION copass UPDATE TO '0.3.0'" to load this file. \quit

CREATE FUNCTION copass_data.has_grant(account_id uuid, sandbox_id uuid, needed copass.access_level)
    RETURNS boolean
    LANGUAGE c STABLE STRICT
    AS 'MODULE_PATHNAME', 'copass_has_grant';
COMMENT ON FUNCTION copass_data.has_grant(uuid, uuid, copass.access_level) IS
    'Whether the calling account holds an active grant of at least needed on the sandbox (viewer or editor)';
-- has_grant keeps PostgreSQL's default EXECUTE for PUBLIC, the one copass
-- function that does: every role that reads sandboxes runs it through the
-- policies, so roles that had the API before this update keep it without
-- running grant_access again.  It reads grants_to_me with the caller's rights
-- and row-level security, so it tells a role nothing that role cannot select.

CREATE OR REPLACE VIEW copass_data.grants_to_me WITH (security_invoker = true) AS
SELECT c.account_id, c.sandbox_id, c.role
  FROM copass_data.connection c
 WHERE c.grantee_account_id OPERATOR(pg_catalog.=) copass.current_account_id()
   AND copass_data.connection_status(c.revoked_at, c.expires_at) OPERATOR(pg_catalog.=) 'active';

ALTER POLICY connection_account ON copass_data.connection
    USING (account_id OPERATOR(pg_catalog.=) copass.current_account_id())
    WITH CHECK (account_id OPERATOR(pg_catalog.=) copass.current_account_id());
ALTER POLICY connection_grantee ON copass_data.connection
    USING (grantee_account_id OPERATOR(pg_catalog.=) copass.current_account_id());
ALTER POLICY account_usage_account ON copass_data.account_usage
    USING (account_id OPERATOR(pg_catalog.=) copass.current_account_id())
    WITH CHECK (account_id OPERATOR(pg_catalog.=) copass.current_account_id());

-- Sandboxes: ownership first, so has_grant runs only for rows of other accounts.
ALTER POLICY sandbox_select ON copass_data.sandbox
    USING (account_id OPERATOR(pg_catalog.=) copass.current_account_id()
           OR copass_data.has_grant(account_id, sandbox_id, 'viewer'));
ALTER POLICY sandbox_insert ON copass_data.sandbox
    WITH CHECK (account_id OPERATOR(pg_catalog.=) copass.current_account_id());
ALTER POLICY sandbox_update ON copass_data.sandbox
    USING (account_id OPERATOR(pg_catalog.=) copass.current_account_id()
           OR copass_data.has_grant(account_id, sandbox_id, 'editor'))
    WITH CHECK (account_id OPERATOR(pg_catalog.=) copass.current_account_id()
                OR copass_data.has_grant(account_id, sandbox_id, 'editor'));
ALTER POLICY sandbox_delete ON copass_data.sandbox
    USING (account_id OPERATOR(pg_catalog.=) copass.current_account_id());

CREATE OR REPLACE VIEW copass.sandboxes WITH (security_invoker = true) AS
SELECT s.sandbox_id,
       s.account_id,
       s.owner_id,
       s.name,
       s.tier,
       s.status,
       s.storage_provider_type,
       s.storage_config,
       copass.tier_limits(s.tier) AS limits,
       s.metadata,
       'owner'::copass.access_level AS access,
       false AS is_external,
       s.created_at,
       s.updated_at
  FROM copass_data.sandbox s
 WHERE s.account_id OPERATOR(pg_catalog.=) copass.current_account_id()
UNION ALL
SELECT s.sandbox_id,
       s.account_id,
       s.owner_id,
       s.name,
       s.tier,
       s.status,
       s.storage_provider_type,
       s.storage_config,
       copass.tier_limits(s.tier) AS limits,
       s.metadata,
       g.role AS access,
       true AS is_external,
       s.created_at,
       s.updated_at
  FROM copass_data.grants_to_me g
  JOIN copass_data.sandbox s ON s.account_id OPERATOR(pg_catalog.=) g.account_id
                            AND s.sandbox_id OPERATOR(pg_catalog.=) g.sandbox_id;
