-- copass 0.1.0: the sandbox registry.
-- Schema copass holds the API (types, functions, the sandboxes view); schema
-- copass_data holds the tables, which PostgREST never exposes.  Every table has
-- row-level security enabled and forced; the API runs with the caller's rights.
-- Every name is schema-qualified and every operator in a policy is pg_catalog's,
-- so no search_path can change what this script or a policy means.

\echo Use "CREATE EXTENSION copass" to load this file. \quit

CREATE SCHEMA copass;
CREATE SCHEMA copass_data;
COMMENT ON SCHEMA copass IS 'Copass sandbox registry: tenant-isolated, tiered sandboxes for your end-users';
COMMENT ON SCHEMA copass_data IS 'copass tables; not exposed through PostgREST, read them through schema copass';

-- Types ---------------------------------------------------------------------

CREATE TYPE copass.tier AS ENUM ('free', 'pro', 'enterprise');
COMMENT ON TYPE copass.tier IS 'Sandbox tier; decides the limits (see copass.tier_limits)';

CREATE TYPE copass.access_level AS ENUM ('viewer', 'editor', 'owner');
COMMENT ON TYPE copass.access_level IS 'Caller''s access level on a sandbox; ordered, so >= compares levels';

CREATE TYPE copass.storage_provider AS ENUM ('platform_s3', 'custom_s3');
COMMENT ON TYPE copass.storage_provider IS 'Where a sandbox keeps its data';

CREATE TYPE copass.sandbox_status AS ENUM ('active', 'suspended', 'archived');
COMMENT ON TYPE copass.sandbox_status IS 'Lifecycle state of a sandbox';

CREATE TYPE copass.limits AS (
    max_storage_bytes bigint,
    max_data_sources integer,
    max_projects integer,
    max_connections integer,
    max_sandboxes integer,
    allow_custom_s3 boolean
);
COMMENT ON TYPE copass.limits IS 'Tier-derived quotas; NULL means unlimited';

CREATE TYPE copass.sandbox AS (
    sandbox_id uuid,
    account_id uuid,
    owner_id uuid,
    name text,
    tier copass.tier,
    status copass.sandbox_status,
    storage_provider_type copass.storage_provider,
    storage_config jsonb,
    limits copass.limits,
    metadata jsonb,
    access copass.access_level,
    is_external boolean,
    created_at timestamptz,
    updated_at timestamptz
);
COMMENT ON TYPE copass.sandbox IS 'A sandbox as the API returns it, with the caller''s access level';

-- Request context -------------------------------------------------------------

CREATE FUNCTION copass.current_account_id() RETURNS uuid
    LANGUAGE c STABLE PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'copass_current_account_id';
COMMENT ON FUNCTION copass.current_account_id() IS
    'The calling account: from copass.account_id or the request.jwt.claims claim named by copass.account_claim; NULL when none is valid';

-- Tables ----------------------------------------------------------------------

CREATE TABLE copass_data.tiers (
    tier copass.tier PRIMARY KEY,
    max_storage_bytes bigint CHECK (max_storage_bytes OPERATOR(pg_catalog.>=) 0),
    max_data_sources integer CHECK (max_data_sources OPERATOR(pg_catalog.>=) 0),
    max_projects integer CHECK (max_projects OPERATOR(pg_catalog.>=) 0),
    max_connections integer CHECK (max_connections OPERATOR(pg_catalog.>=) 0),
    max_sandboxes integer CHECK (max_sandboxes OPERATOR(pg_catalog.>=) 0),
    allow_custom_s3 boolean NOT NULL DEFAULT false
);
COMMENT ON TABLE copass_data.tiers IS 'Operator-editable limits, one row per tier; NULL means unlimited';

INSERT INTO copass_data.tiers VALUES
    ('free', 1073741824, 10, 5, 3, 1000, false),
    ('pro', 107374182400, 100, 50, 25, 100000, false),
    ('enterprise', NULL, NULL, NULL, NULL, NULL, true);

-- A restore replays the dumped rows into a table CREATE EXTENSION has just
-- seeded: an insert for a tier that exists replaces that row, so every tier
-- comes back exactly once with the operator's values.
CREATE FUNCTION copass_data.tiers_upsert() RETURNS trigger
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
    AS $$
BEGIN
    UPDATE copass_data.tiers t
       SET max_storage_bytes = NEW.max_storage_bytes,
           max_data_sources = NEW.max_data_sources,
           max_projects = NEW.max_projects,
           max_connections = NEW.max_connections,
           max_sandboxes = NEW.max_sandboxes,
           allow_custom_s3 = NEW.allow_custom_s3
     WHERE t.tier OPERATOR(pg_catalog.=) NEW.tier;
    IF FOUND THEN
        RETURN NULL;
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER tiers_upsert BEFORE INSERT ON copass_data.tiers
    FOR EACH ROW EXECUTE FUNCTION copass_data.tiers_upsert();

CREATE TABLE copass_data.sandbox (
    account_id uuid NOT NULL,
    sandbox_id uuid NOT NULL,
    owner_id uuid NOT NULL,
    name text NOT NULL CHECK (pg_catalog.length(name) OPERATOR(pg_catalog.<=) 255
                              AND pg_catalog.btrim(name) OPERATOR(pg_catalog.<>) ''),
    tier copass.tier NOT NULL,
    status copass.sandbox_status NOT NULL DEFAULT 'active',
    storage_provider_type copass.storage_provider NOT NULL,
    storage_config jsonb,
    metadata jsonb NOT NULL CHECK (pg_catalog.jsonb_typeof(metadata) OPERATOR(pg_catalog.=) 'object'),
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL,
    PRIMARY KEY (account_id, sandbox_id),
    UNIQUE (account_id, owner_id, name)
);
CREATE INDEX sandbox_owner_idx ON copass_data.sandbox (account_id, owner_id, sandbox_id);
COMMENT ON TABLE copass_data.sandbox IS 'Sandboxes, keyed by the owning account';

-- Live sandboxes per account and tier: the max_sandboxes quota is checked
-- against this row under its lock, so concurrent creates cannot overshoot and
-- the check costs the same however many sandboxes an account has.
CREATE TABLE copass_data.account_usage (
    account_id uuid NOT NULL,
    tier copass.tier NOT NULL,
    sandboxes integer NOT NULL CHECK (sandboxes OPERATOR(pg_catalog.>=) 0),
    PRIMARY KEY (account_id, tier)
);
COMMENT ON TABLE copass_data.account_usage IS 'Sandbox count per account and tier, for the max_sandboxes quota';

-- Row-level security: every table, forced also for the table owner.  The
-- account is computed once per statement (an InitPlan), never per row.
ALTER TABLE copass_data.tiers ENABLE ROW LEVEL SECURITY;
ALTER TABLE copass_data.tiers FORCE ROW LEVEL SECURITY;
-- Tier limits are not tenant data: anyone with SELECT reads them, and only
-- roles holding UPDATE (the operator) change them.
CREATE POLICY tiers_all ON copass_data.tiers USING (true) WITH CHECK (true);

ALTER TABLE copass_data.sandbox ENABLE ROW LEVEL SECURITY;
ALTER TABLE copass_data.sandbox FORCE ROW LEVEL SECURITY;
CREATE POLICY sandbox_account ON copass_data.sandbox
    USING (account_id OPERATOR(pg_catalog.=) (SELECT copass.current_account_id()))
    WITH CHECK (account_id OPERATOR(pg_catalog.=) (SELECT copass.current_account_id()));

ALTER TABLE copass_data.account_usage ENABLE ROW LEVEL SECURITY;
ALTER TABLE copass_data.account_usage FORCE ROW LEVEL SECURITY;
CREATE POLICY account_usage_account ON copass_data.account_usage
    USING (account_id OPERATOR(pg_catalog.=) (SELECT copass.current_account_id()))
    WITH CHECK (account_id OPERATOR(pg_catalog.=) (SELECT copass.current_account_id()));

-- pg_dump keeps the rows of extension tables only when they are registered.
SELECT pg_catalog.pg_extension_config_dump('copass_data.tiers', '');
SELECT pg_catalog.pg_extension_config_dump('copass_data.sandbox', '');
SELECT pg_catalog.pg_extension_config_dump('copass_data.account_usage', '');

-- The view ------------------------------------------------------------------

-- Every sandbox the caller can see, shaped like copass.sandbox.  The API's
-- list and get functions read through it, so this is the one place that says
-- what a returned sandbox looks like.
CREATE VIEW copass.sandboxes WITH (security_invoker = true) AS
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
  LEFT JOIN copass_data.tiers t ON t.tier OPERATOR(pg_catalog.=) s.tier;
COMMENT ON VIEW copass.sandboxes IS
    'Every sandbox the calling account can see; filter with ?owner_id=eq.<uuid>';

-- API functions -------------------------------------------------------------

CREATE FUNCTION copass.tier_limits(tier copass.tier) RETURNS copass.limits
    LANGUAGE c STABLE PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'copass_tier_limits';
COMMENT ON FUNCTION copass.tier_limits(copass.tier) IS 'The limits a tier gives, from copass_data.tiers';

CREATE FUNCTION copass.sandbox_create(
    name text,
    owner_id uuid,
    tier copass.tier DEFAULT 'free',
    metadata jsonb DEFAULT '{}',
    storage_provider_type copass.storage_provider DEFAULT 'platform_s3',
    storage_config jsonb DEFAULT NULL
) RETURNS copass.sandbox
    LANGUAGE c VOLATILE
    AS 'MODULE_PATHNAME', 'copass_sandbox_create';
COMMENT ON FUNCTION copass.sandbox_create(text, uuid, copass.tier, jsonb, copass.storage_provider, jsonb) IS
    'Create a sandbox named name for your end-user owner_id; (owner_id, name) is unique per account. Answers 201.';

CREATE FUNCTION copass.sandbox_list_by_owner(
    owner_id uuid,
    include_connections boolean DEFAULT true,
    page_size integer DEFAULT 100,
    after_id uuid DEFAULT NULL
) RETURNS SETOF copass.sandbox
    LANGUAGE c STABLE ROWS 100
    AS 'MODULE_PATHNAME', 'copass_sandbox_list_by_owner';
COMMENT ON FUNCTION copass.sandbox_list_by_owner(uuid, boolean, integer, uuid) IS
    'Sandboxes of owner_id ordered by sandbox_id; pass the last sandbox_id of a page as after_id for the next (page_size 1..1000)';

CREATE FUNCTION copass.sandbox_get(sandbox_id uuid) RETURNS copass.sandbox
    LANGUAGE c STABLE
    AS 'MODULE_PATHNAME', 'copass_sandbox_get';
COMMENT ON FUNCTION copass.sandbox_get(uuid) IS 'One sandbox the caller can see; 404 otherwise';

-- Privileges ------------------------------------------------------------------

-- Grants a role everything the API needs: the API schema, its functions and
-- view, and the tables the functions read and write with the caller's rights.
-- Row-level security, not these grants, keeps tenants apart.  It runs as the
-- objects' owner, so the grants it makes are the owner's: pg_dump writes them
-- as plain GRANTs that a restore replays whoever owns the extension then.
-- Only the extension's owner may call it.
CREATE FUNCTION copass.grant_access(role regrole) RETURNS void
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
                              ' copass.sandbox_status, copass.limits, copass.sandbox TO %s', role);
    EXECUTE pg_catalog.format('GRANT EXECUTE ON FUNCTION copass.current_account_id(), copass.tier_limits(copass.tier),'
                              ' copass.sandbox_create(text, uuid, copass.tier, jsonb, copass.storage_provider, jsonb),'
                              ' copass.sandbox_list_by_owner(uuid, boolean, integer, uuid),'
                              ' copass.sandbox_get(uuid) TO %s', role);
    EXECUTE pg_catalog.format('GRANT SELECT ON copass.sandboxes, copass_data.tiers TO %s', role);
    EXECUTE pg_catalog.format('GRANT SELECT, INSERT, UPDATE, DELETE ON copass_data.sandbox TO %s', role);
    EXECUTE pg_catalog.format('GRANT SELECT, INSERT, UPDATE ON copass_data.account_usage TO %s', role);
END
$$;
COMMENT ON FUNCTION copass.grant_access(regrole) IS 'Grant a role what the copass API needs (the extension''s owner only)';

-- PUBLIC gets nothing.  The role that created the extension (a trusted
-- extension's objects belong to the bootstrap superuser) may hand out access
-- with copass.grant_access and, as the operator, edit the tier limits.
REVOKE ALL ON FUNCTION copass.current_account_id(), copass.tier_limits(copass.tier),
    copass.sandbox_create(text, uuid, copass.tier, jsonb, copass.storage_provider, jsonb),
    copass.sandbox_list_by_owner(uuid, boolean, integer, uuid),
    copass.sandbox_get(uuid), copass.grant_access(regrole), copass_data.tiers_upsert()
    FROM PUBLIC;
REVOKE ALL ON TYPE copass.tier, copass.access_level, copass.storage_provider,
    copass.sandbox_status, copass.limits, copass.sandbox FROM PUBLIC;

GRANT USAGE ON SCHEMA copass, copass_data TO @extowner@;
GRANT EXECUTE ON FUNCTION copass.grant_access(regrole) TO @extowner@;
GRANT USAGE ON TYPE copass.tier TO @extowner@;
GRANT SELECT, INSERT, UPDATE, DELETE ON copass_data.tiers TO @extowner@;
