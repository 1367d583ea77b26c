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
REVOKE ALL ON FUNCTION copass_data.has_grant(uuid, uuid, copass.access_level) FROM PUBLIC;

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

-- Privileges --------------------------------------------------------------------
-- grant_access and revoke_access now also cover has_grant, which every role
-- that reads sandboxes runs through the policies.

CREATE OR REPLACE FUNCTION copass.grant_access(role regrole) RETURNS void
    LANGUAGE plpgsql
    SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
    AS $$
BEGIN
    IF role IS NULL THEN
        RAISE EXCEPTION 'role must not be null' USING ERRCODE = '22023';
    END IF;
    EXECUTE pg_catalog.format('GRANT USAGE ON SCHEMA copass, copass_data TO %s', role);
    EXECUTE pg_catalog.format('GRANT USAGE ON TYPE copass.tier, copass.access_level, copass.storage_provider,'
                              ' copass.sandbox_status, copass.limits, copass.sandbox, copass.connection TO %s', role);
    EXECUTE pg_catalog.format('GRANT EXECUTE ON FUNCTION copass.current_account_id(), copass.tier_limits(copass.tier),'
                              ' copass.sandbox_create(text, uuid, copass.tier, jsonb, copass.storage_provider, jsonb),'
                              ' copass.sandbox_list_by_owner(uuid, boolean, integer, uuid),'
                              ' copass.sandbox_get(uuid),'
                              ' copass.sandbox_update(uuid, text, jsonb),'
                              ' copass.sandbox_set_status(uuid, copass.sandbox_status),'
                              ' copass.sandbox_delete(uuid),'
                              ' copass.connection_grant(uuid, uuid, copass.access_level, timestamptz, text),'
                              ' copass.connection_revoke(uuid, uuid),'
                              ' copass.connection_list(uuid, boolean) TO %s', role);
    EXECUTE pg_catalog.format('GRANT EXECUTE ON FUNCTION copass_data.connection_status(timestamptz, timestamptz),'
                              ' copass_data.has_grant(uuid, uuid, copass.access_level) TO %s', role);
    EXECUTE pg_catalog.format('GRANT SELECT ON copass.sandboxes, copass_data.tiers, copass_data.grants_to_me TO %s', role);
    -- writes through the API only ever change these columns (a role that had
    -- 0.1.0's table-wide UPDATE loses it here)
    EXECUTE pg_catalog.format('REVOKE UPDATE ON copass_data.sandbox, copass_data.connection FROM %s', role);
    EXECUTE pg_catalog.format('GRANT SELECT, INSERT, DELETE ON copass_data.sandbox, copass_data.connection TO %s', role);
    EXECUTE pg_catalog.format('GRANT UPDATE (name, metadata, status, updated_at) ON copass_data.sandbox TO %s', role);
    EXECUTE pg_catalog.format('GRANT UPDATE (role, label, expires_at, revoked_at, updated_at) ON copass_data.connection TO %s', role);
    EXECUTE pg_catalog.format('GRANT SELECT, INSERT, UPDATE ON copass_data.account_usage TO %s', role);
END
$$;

CREATE OR REPLACE FUNCTION copass.revoke_access(role regrole) RETURNS void
    LANGUAGE plpgsql
    SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
    AS $$
BEGIN
    IF role IS NULL THEN
        RAISE EXCEPTION 'role must not be null' USING ERRCODE = '22023';
    END IF;
    EXECUTE pg_catalog.format('REVOKE ALL ON FUNCTION copass.current_account_id(), copass.tier_limits(copass.tier),'
                              ' copass.sandbox_create(text, uuid, copass.tier, jsonb, copass.storage_provider, jsonb),'
                              ' copass.sandbox_list_by_owner(uuid, boolean, integer, uuid),'
                              ' copass.sandbox_get(uuid),'
                              ' copass.sandbox_update(uuid, text, jsonb),'
                              ' copass.sandbox_set_status(uuid, copass.sandbox_status),'
                              ' copass.sandbox_delete(uuid),'
                              ' copass.connection_grant(uuid, uuid, copass.access_level, timestamptz, text),'
                              ' copass.connection_revoke(uuid, uuid),'
                              ' copass.connection_list(uuid, boolean) FROM %s', role);
    EXECUTE pg_catalog.format('REVOKE ALL ON FUNCTION copass_data.connection_status(timestamptz, timestamptz),'
                              ' copass_data.has_grant(uuid, uuid, copass.access_level) FROM %s', role);
    EXECUTE pg_catalog.format('REVOKE ALL ON copass.sandboxes, copass_data.tiers, copass_data.grants_to_me,'
                              ' copass_data.sandbox, copass_data.connection, copass_data.account_usage FROM %s', role);
    EXECUTE pg_catalog.format('REVOKE ALL (name, metadata, status, updated_at) ON copass_data.sandbox FROM %s', role);
    EXECUTE pg_catalog.format('REVOKE ALL (role, label, expires_at, revoked_at, updated_at) ON copass_data.connection FROM %s', role);
    EXECUTE pg_catalog.format('REVOKE ALL ON TYPE copass.tier, copass.access_level, copass.storage_provider,'
                              ' copass.sandbox_status, copass.limits, copass.sandbox, copass.connection FROM %s', role);
    EXECUTE pg_catalog.format('REVOKE ALL ON SCHEMA copass, copass_data FROM %s', role);
END
$$;

-- Roles that had the API need copass.grant_access again for has_grant (grants
-- made here would become part of the extension and be left out of every
-- pg_dump); say which.
DO $$
DECLARE
    api_roles text;
BEGIN
    SELECT pg_catalog.string_agg(DISTINCT a.grantee::regrole::text, ', ')
      INTO api_roles
      FROM pg_catalog.pg_proc p, pg_catalog.aclexplode(p.proacl) a
     WHERE p.oid OPERATOR(pg_catalog.=) 'copass.sandbox_create(text, uuid, copass.tier, jsonb, copass.storage_provider, jsonb)'::pg_catalog.regprocedure
       AND a.grantee OPERATOR(pg_catalog.<>) 0
       AND a.grantee OPERATOR(pg_catalog.<>) p.proowner;
    IF api_roles IS NOT NULL THEN
        RAISE WARNING 'copass 0.3.0 checks grants in copass_data.has_grant: run copass.grant_access again for %', api_roles
            USING HINT = 'Until then these roles cannot read or write sandboxes.';
    END IF;
END
$$;
