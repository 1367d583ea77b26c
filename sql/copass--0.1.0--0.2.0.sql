-- copass 0.1.0 -> 0.2.0: sharing through connections, and the sandbox lifecycle.
-- A connection lets another account reach one sandbox as editor or viewer.
-- Who may read or write a sandbox is decided in one place, the view
-- copass_data.grants_to_me and the policies built on it; the API's access and
-- is_external columns come from the same view.

\echo Use "ALTER EXTENSION copass UPDATE TO '0.2.0'" to load this file. \quit

CREATE TYPE copass.connection AS (
    connection_id uuid,
    sandbox_id uuid,
    grantee_account_id uuid,
    role copass.access_level,
    label text,
    expires_at timestamptz,
    revoked_at timestamptz,
    created_by uuid,
    created_at timestamptz,
    status text
);
COMMENT ON TYPE copass.connection IS 'A grant of one sandbox to another account; status is active, revoked or expired';

-- account_id is the sandbox's account (the granting side); the grantee finds
-- its grants through the second index, which leads with its account.
CREATE TABLE copass_data.connection (
    account_id uuid NOT NULL,
    sandbox_id uuid NOT NULL,
    grantee_account_id uuid NOT NULL,
    connection_id uuid NOT NULL,
    role copass.access_level NOT NULL
        CHECK (role OPERATOR(pg_catalog.<>) 'owner'::copass.access_level),
    label text CHECK (pg_catalog.length(label) OPERATOR(pg_catalog.<=) 255),
    expires_at timestamptz,
    revoked_at timestamptz,
    created_by uuid NOT NULL,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL,
    PRIMARY KEY (account_id, sandbox_id, grantee_account_id),
    UNIQUE (account_id, connection_id),
    CHECK (grantee_account_id OPERATOR(pg_catalog.<>) account_id),
    FOREIGN KEY (account_id, sandbox_id) REFERENCES copass_data.sandbox ON DELETE CASCADE
);
CREATE INDEX connection_grantee_idx ON copass_data.connection (grantee_account_id, sandbox_id);
COMMENT ON TABLE copass_data.connection IS 'Grants of sandboxes to other accounts; revoking keeps the row';

-- A grant's status now, by the clock (not the statement's or transaction's
-- start, which a long statement or a procedure could hold on to): a grant
-- stops giving access the moment it expires, and no job expires anything.
CREATE FUNCTION copass_data.connection_status(revoked_at timestamptz, expires_at timestamptz)
    RETURNS text
    LANGUAGE sql VOLATILE PARALLEL SAFE
    RETURN CASE
        WHEN revoked_at IS NOT NULL THEN 'revoked'
        WHEN expires_at OPERATOR(pg_catalog.<=) pg_catalog.clock_timestamp() THEN 'expired'
        ELSE 'active'
    END;
COMMENT ON FUNCTION copass_data.connection_status(timestamptz, timestamptz) IS
    'active, revoked or expired, by the clock';

ALTER TABLE copass_data.connection ENABLE ROW LEVEL SECURITY;
ALTER TABLE copass_data.connection FORCE ROW LEVEL SECURITY;
-- the sandbox's account manages its grants; a grantee reads the grants it holds
CREATE POLICY connection_account ON copass_data.connection
    USING (account_id OPERATOR(pg_catalog.=) (SELECT copass.current_account_id()))
    WITH CHECK (account_id OPERATOR(pg_catalog.=) (SELECT copass.current_account_id()));
CREATE POLICY connection_grantee ON copass_data.connection FOR SELECT
    USING (grantee_account_id OPERATOR(pg_catalog.=) (SELECT copass.current_account_id()));

SELECT pg_catalog.pg_extension_config_dump('copass_data.connection', '');

-- The active grants the calling account holds: the one definition of shared
-- access.  It reads only copass_data.connection, whose policies never look at
-- sandboxes, so the sandbox policies below that use it cannot recurse.
CREATE VIEW copass_data.grants_to_me WITH (security_invoker = true) AS
SELECT c.account_id, c.sandbox_id, c.role
  FROM copass_data.connection c
 WHERE c.grantee_account_id OPERATOR(pg_catalog.=) (SELECT copass.current_account_id())
   AND copass_data.connection_status(c.revoked_at, c.expires_at) OPERATOR(pg_catalog.=) 'active';
COMMENT ON VIEW copass_data.grants_to_me IS 'Active grants held by the calling account';

-- Sandboxes: one policy per command, each testing ownership first so that a
-- caller's own rows never reach the grants check.  The owning account may do
-- anything; a grantee may read, and an editor may update.
DROP POLICY sandbox_account ON copass_data.sandbox;
CREATE POLICY sandbox_select ON copass_data.sandbox FOR SELECT
    USING (account_id OPERATOR(pg_catalog.=) (SELECT copass.current_account_id())
           OR EXISTS (SELECT FROM copass_data.grants_to_me g
                       WHERE g.account_id OPERATOR(pg_catalog.=) sandbox.account_id
                         AND g.sandbox_id OPERATOR(pg_catalog.=) sandbox.sandbox_id));
CREATE POLICY sandbox_insert ON copass_data.sandbox FOR INSERT
    WITH CHECK (account_id OPERATOR(pg_catalog.=) (SELECT copass.current_account_id()));
CREATE POLICY sandbox_update ON copass_data.sandbox FOR UPDATE
    USING (account_id OPERATOR(pg_catalog.=) (SELECT copass.current_account_id())
           OR EXISTS (SELECT FROM copass_data.grants_to_me g
                       WHERE g.account_id OPERATOR(pg_catalog.=) sandbox.account_id
                         AND g.sandbox_id OPERATOR(pg_catalog.=) sandbox.sandbox_id
                         AND g.role OPERATOR(pg_catalog.>=) 'editor'::copass.access_level))
    WITH CHECK (account_id OPERATOR(pg_catalog.=) (SELECT copass.current_account_id())
                OR EXISTS (SELECT FROM copass_data.grants_to_me g
                            WHERE g.account_id OPERATOR(pg_catalog.=) sandbox.account_id
                              AND g.sandbox_id OPERATOR(pg_catalog.=) sandbox.sandbox_id
                              AND g.role OPERATOR(pg_catalog.>=) 'editor'::copass.access_level));
CREATE POLICY sandbox_delete ON copass_data.sandbox FOR DELETE
    USING (account_id OPERATOR(pg_catalog.=) (SELECT copass.current_account_id()));

-- The view is now the connection-union: owned sandboxes, then those shared
-- with the caller, each with the caller's access level.
CREATE OR REPLACE VIEW copass.sandboxes WITH (security_invoker = true) AS
SELECT s.sandbox_id,
       s.account_id,
       s.owner_id,
       s.name,
       s.tier,
       s.status,
       s.storage_provider_type,
       s.storage_config,
       ROW(t.max_storage_bytes, t.max_data_sources, t.max_projects,
           t.max_connections, t.max_sandboxes, t.allow_custom_s3)::copass.limits AS limits,
       s.metadata,
       'owner'::copass.access_level AS access,
       false AS is_external,
       s.created_at,
       s.updated_at
  FROM copass_data.sandbox s
  LEFT JOIN copass_data.tiers t ON t.tier OPERATOR(pg_catalog.=) s.tier
 WHERE s.account_id OPERATOR(pg_catalog.=) (SELECT copass.current_account_id())
UNION ALL
SELECT s.sandbox_id,
       s.account_id,
       s.owner_id,
       s.name,
       s.tier,
       s.status,
       s.storage_provider_type,
       s.storage_config,
       ROW(t.max_storage_bytes, t.max_data_sources, t.max_projects,
           t.max_connections, t.max_sandboxes, t.allow_custom_s3)::copass.limits AS limits,
       s.metadata,
       g.role AS access,
       true AS is_external,
       s.created_at,
       s.updated_at
  FROM copass_data.grants_to_me g
  JOIN copass_data.sandbox s ON s.account_id OPERATOR(pg_catalog.=) g.account_id
                            AND s.sandbox_id OPERATOR(pg_catalog.=) g.sandbox_id
  LEFT JOIN copass_data.tiers t ON t.tier OPERATOR(pg_catalog.=) s.tier;
COMMENT ON VIEW copass.sandboxes IS
    'Every sandbox the calling account can see: its own and those shared with it, with access and is_external; filter with ?owner_id=eq.<uuid>';

-- Lifecycle ---------------------------------------------------------------------

CREATE FUNCTION copass.sandbox_update(sandbox_id uuid, name text DEFAULT NULL, metadata jsonb DEFAULT NULL)
    RETURNS copass.sandbox
    LANGUAGE c VOLATILE
    AS 'MODULE_PATHNAME', 'copass_sandbox_update';
COMMENT ON FUNCTION copass.sandbox_update(uuid, text, jsonb) IS
    'Rename a sandbox or replace its metadata (owner or editor); NULL leaves a field unchanged';

CREATE FUNCTION copass.sandbox_set_status(sandbox_id uuid, status copass.sandbox_status)
    RETURNS copass.sandbox
    LANGUAGE c VOLATILE
    AS 'MODULE_PATHNAME', 'copass_sandbox_set_status';
COMMENT ON FUNCTION copass.sandbox_set_status(uuid, copass.sandbox_status) IS
    'Set a sandbox''s status: active, suspended or archived (owner only)';

CREATE FUNCTION copass.sandbox_delete(sandbox_id uuid)
    RETURNS copass.sandbox
    LANGUAGE c VOLATILE
    AS 'MODULE_PATHNAME', 'copass_sandbox_delete';
COMMENT ON FUNCTION copass.sandbox_delete(uuid) IS
    'Delete a sandbox and its connections (owner only); returns what was deleted';

-- Connections -------------------------------------------------------------------

CREATE FUNCTION copass.connection_grant(
    sandbox_id uuid,
    grantee_account_id uuid,
    role copass.access_level,
    expires_at timestamptz DEFAULT NULL,
    label text DEFAULT NULL
) RETURNS copass.connection
    LANGUAGE c VOLATILE
    AS 'MODULE_PATHNAME', 'copass_connection_grant';
COMMENT ON FUNCTION copass.connection_grant(uuid, uuid, copass.access_level, timestamptz, text) IS
    'Share a sandbox with another account as editor or viewer (owner only); granting again updates the grant';

CREATE FUNCTION copass.connection_revoke(sandbox_id uuid, grantee_account_id uuid)
    RETURNS copass.connection
    LANGUAGE c VOLATILE
    AS 'MODULE_PATHNAME', 'copass_connection_revoke';
COMMENT ON FUNCTION copass.connection_revoke(uuid, uuid) IS
    'Revoke a grant at once (owner only); the row stays, with revoked_at set';

CREATE FUNCTION copass.connection_list(sandbox_id uuid, include_revoked boolean DEFAULT false)
    RETURNS SETOF copass.connection
    LANGUAGE c STABLE ROWS 10
    AS 'MODULE_PATHNAME', 'copass_connection_list';
COMMENT ON FUNCTION copass.connection_list(uuid, boolean) IS
    'The grants of a sandbox, oldest first (owner only)';

-- Privileges --------------------------------------------------------------------

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
                              ' copass.connection_list(uuid, boolean),'
                              ' copass_data.connection_status(timestamptz, timestamptz) TO %s', role);
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

-- Takes back everything grant_access gives (and 0.1.0's table-wide grants).
CREATE FUNCTION copass.revoke_access(role regrole) RETURNS void
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
                              ' copass.connection_list(uuid, boolean),'
                              ' copass_data.connection_status(timestamptz, timestamptz) FROM %s', role);
    EXECUTE pg_catalog.format('REVOKE ALL ON copass.sandboxes, copass_data.tiers, copass_data.grants_to_me,'
                              ' copass_data.sandbox, copass_data.connection, copass_data.account_usage FROM %s', role);
    EXECUTE pg_catalog.format('REVOKE ALL (name, metadata, status, updated_at) ON copass_data.sandbox FROM %s', role);
    EXECUTE pg_catalog.format('REVOKE ALL (role, label, expires_at, revoked_at, updated_at) ON copass_data.connection FROM %s', role);
    EXECUTE pg_catalog.format('REVOKE ALL ON TYPE copass.tier, copass.access_level, copass.storage_provider,'
                              ' copass.sandbox_status, copass.limits, copass.sandbox, copass.connection FROM %s', role);
    EXECUTE pg_catalog.format('REVOKE ALL ON SCHEMA copass, copass_data FROM %s', role);
END
$$;
COMMENT ON FUNCTION copass.revoke_access(regrole) IS 'Take back what copass.grant_access gave a role (the extension''s owner only)';

REVOKE ALL ON FUNCTION copass.sandbox_update(uuid, text, jsonb),
    copass.sandbox_set_status(uuid, copass.sandbox_status),
    copass.sandbox_delete(uuid),
    copass.connection_grant(uuid, uuid, copass.access_level, timestamptz, text),
    copass.connection_revoke(uuid, uuid),
    copass.connection_list(uuid, boolean),
    copass_data.connection_status(timestamptz, timestamptz),
    copass.revoke_access(regrole)
    FROM PUBLIC;
REVOKE ALL ON TYPE copass.connection FROM PUBLIC;
GRANT EXECUTE ON FUNCTION copass.revoke_access(regrole) TO @extowner@;

-- Roles that had the 0.1.0 API need copass.grant_access again for the new
-- parts (grants made here would become part of the extension and be left out
-- of every pg_dump); say which.
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
        RAISE WARNING 'copass 0.2.0 adds sharing: run copass.grant_access again for %', api_roles
            USING HINT = 'Until then these roles cannot list or read sandboxes.';
    END IF;
END
$$;
