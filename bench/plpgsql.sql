-- Baseline (b): a straightforward PL/pgSQL implementation of the part of the
-- copass API the benchmark calls (sandbox_create, sandbox_list_by_owner,
-- connection_grant, the sandboxes view), with the same tables, indexes,
-- row-level security (enabled and forced) and input checks as SPEC.md asks.
-- It lives in its own schemas, plsb (API) and plsb_data (tables), reuses the
-- copass types (copass.tier, copass.sandbox, ...) so that both return the same
-- rows, and reads the same settings (copass.account_id, request.jwt.claims,
-- copass.account_claim, copass.max_metadata_bytes).
--
-- It is what one would write without C: every check is a PL/pgSQL statement,
-- the account is parsed from the settings by a PL/pgSQL function (an
-- exception block catches invalid JSON claims), UUIDv7 ids are built from
-- clock_timestamp() and gen_random_uuid() with a per-backend setting that
-- keeps them strictly increasing, and the quota is a counter row upserted
-- under its lock, like copass.

CREATE SCHEMA plsb;
CREATE SCHEMA plsb_data;

-- Tables: the same definitions as copass_data -----------------------------------

CREATE TABLE plsb_data.tiers (LIKE copass_data.tiers INCLUDING ALL);
INSERT INTO plsb_data.tiers SELECT * FROM copass_data.tiers;
CREATE TABLE plsb_data.sandbox (LIKE copass_data.sandbox INCLUDING ALL);
CREATE TABLE plsb_data.account_usage (LIKE copass_data.account_usage INCLUDING ALL);
CREATE TABLE plsb_data.connection (LIKE copass_data.connection INCLUDING ALL,
    FOREIGN KEY (account_id, sandbox_id) REFERENCES plsb_data.sandbox ON DELETE CASCADE);

-- Who is calling -----------------------------------------------------------------

CREATE FUNCTION plsb.current_account_id() RETURNS uuid
    LANGUAGE plpgsql STABLE
    AS $$
DECLARE
    uuid_re CONSTANT text :=
        '^([0-9a-f]{4}(-?[0-9a-f]{4}){7}|\{[0-9a-f]{4}(-?[0-9a-f]{4}){7}\})$';
    setting text := pg_catalog.current_setting('copass.account_id', true);
    claims text := pg_catalog.current_setting('request.jwt.claims', true);
    claim text := COALESCE(pg_catalog.current_setting('copass.account_claim', true), 'account_id');
    doc jsonb;
    from_setting uuid;
    from_claims uuid;
BEGIN
    IF setting ~* uuid_re THEN
        from_setting := setting::uuid;
    END IF;
    IF claims IS NOT NULL AND claims <> '' THEN
        BEGIN
            doc := claims::jsonb;
        EXCEPTION WHEN OTHERS THEN
            doc := NULL;
        END;
        IF pg_catalog.jsonb_typeof(doc) = 'object'
           AND pg_catalog.jsonb_typeof(doc -> claim) = 'string'
           AND (doc ->> claim) ~* uuid_re THEN
            from_claims := (doc ->> claim)::uuid;
        END IF;
    END IF;
    IF from_setting IS NOT NULL AND from_claims IS NOT NULL AND from_setting <> from_claims THEN
        RAISE EXCEPTION 'the request names two different accounts' USING ERRCODE = '42501';
    END IF;
    RETURN COALESCE(from_setting, from_claims);
END
$$;

CREATE FUNCTION plsb.require_account() RETURNS uuid
    LANGUAGE plpgsql STABLE
    AS $$
DECLARE
    account uuid := plsb.current_account_id();
BEGIN
    IF account IS NULL THEN
        RAISE EXCEPTION 'no account in the request' USING ERRCODE = '42501';
    END IF;
    RETURN account;
END
$$;

-- UUIDv7: 48 bits of ms, 12 bits of sub-ms fraction, random rest; strictly
-- increasing within a backend (the last timestamp is kept in a setting).
CREATE FUNCTION plsb.uuid7() RETURNS uuid
    LANGUAGE plpgsql VOLATILE
    AS $$
DECLARE
    now_us bigint := (extract(epoch FROM pg_catalog.clock_timestamp()) * 1000000)::bigint;
    ts bigint := (now_us / 1000) << 12 | ((now_us % 1000) * 4096 / 1000);
    last_ts bigint := COALESCE(NULLIF(pg_catalog.current_setting('plsb.last_uuid7', true), ''), '0')::bigint;
    bytes bytea := pg_catalog.uuid_send(pg_catalog.gen_random_uuid());
BEGIN
    IF ts <= last_ts THEN
        ts := last_ts + 1;
    END IF;
    PERFORM pg_catalog.set_config('plsb.last_uuid7', ts::text, false);
    bytes := pg_catalog.overlay(bytes, pg_catalog.substr(pg_catalog.int8send(ts >> 12), 3), 1, 6);
    bytes := pg_catalog.set_byte(bytes, 6, (112 | ((ts >> 8) & 15))::int);
    bytes := pg_catalog.set_byte(bytes, 7, (ts & 255)::int);
    RETURN pg_catalog.encode(bytes, 'hex')::uuid;
END
$$;

CREATE FUNCTION plsb_data.connection_status(revoked_at timestamptz, expires_at timestamptz)
    RETURNS text
    LANGUAGE sql STABLE PARALLEL SAFE
    RETURN CASE
        WHEN revoked_at IS NOT NULL THEN 'revoked'
        WHEN expires_at <= pg_catalog.statement_timestamp() THEN 'expired'
        ELSE 'active'
    END;

-- Row-level security, as copass ------------------------------------------------------

ALTER TABLE plsb_data.tiers ENABLE ROW LEVEL SECURITY;
ALTER TABLE plsb_data.tiers FORCE ROW LEVEL SECURITY;
CREATE POLICY tiers_all ON plsb_data.tiers USING (true) WITH CHECK (true);

ALTER TABLE plsb_data.account_usage ENABLE ROW LEVEL SECURITY;
ALTER TABLE plsb_data.account_usage FORCE ROW LEVEL SECURITY;
CREATE POLICY account_usage_account ON plsb_data.account_usage
    USING (account_id = (SELECT plsb.current_account_id()))
    WITH CHECK (account_id = (SELECT plsb.current_account_id()));

ALTER TABLE plsb_data.connection ENABLE ROW LEVEL SECURITY;
ALTER TABLE plsb_data.connection FORCE ROW LEVEL SECURITY;
CREATE POLICY connection_account ON plsb_data.connection
    USING (account_id = (SELECT plsb.current_account_id()))
    WITH CHECK (account_id = (SELECT plsb.current_account_id()));
CREATE POLICY connection_grantee ON plsb_data.connection FOR SELECT
    USING (grantee_account_id = (SELECT plsb.current_account_id()));

CREATE VIEW plsb_data.grants_to_me WITH (security_invoker = true) AS
SELECT c.account_id, c.sandbox_id, c.role
  FROM plsb_data.connection c
 WHERE c.grantee_account_id = (SELECT plsb.current_account_id())
   AND plsb_data.connection_status(c.revoked_at, c.expires_at) = 'active';

ALTER TABLE plsb_data.sandbox ENABLE ROW LEVEL SECURITY;
ALTER TABLE plsb_data.sandbox FORCE ROW LEVEL SECURITY;
CREATE POLICY sandbox_account ON plsb_data.sandbox
    USING (account_id = (SELECT plsb.current_account_id()))
    WITH CHECK (account_id = (SELECT plsb.current_account_id()));
CREATE POLICY sandbox_grantee_read ON plsb_data.sandbox FOR SELECT
    USING (EXISTS (SELECT FROM plsb_data.grants_to_me g
                    WHERE g.account_id = sandbox.account_id AND g.sandbox_id = sandbox.sandbox_id));
CREATE POLICY sandbox_grantee_edit ON plsb_data.sandbox FOR UPDATE
    USING (EXISTS (SELECT FROM plsb_data.grants_to_me g
                    WHERE g.account_id = sandbox.account_id AND g.sandbox_id = sandbox.sandbox_id
                      AND g.role >= 'editor'::copass.access_level))
    WITH CHECK (EXISTS (SELECT FROM plsb_data.grants_to_me g
                         WHERE g.account_id = sandbox.account_id AND g.sandbox_id = sandbox.sandbox_id
                           AND g.role >= 'editor'::copass.access_level));

-- The view: owned sandboxes, then those shared with the caller ------------------------

CREATE VIEW plsb.sandboxes WITH (security_invoker = true) AS
SELECT s.sandbox_id, s.account_id, s.owner_id, s.name, s.tier, s.status,
       s.storage_provider_type, s.storage_config,
       ROW(t.max_storage_bytes, t.max_data_sources, t.max_projects,
           t.max_connections, t.max_sandboxes, t.allow_custom_s3)::copass.limits AS limits,
       s.metadata, 'owner'::copass.access_level AS access, false AS is_external,
       s.created_at, s.updated_at
  FROM plsb_data.sandbox s
  LEFT JOIN plsb_data.tiers t ON t.tier = s.tier
 WHERE s.account_id = (SELECT plsb.current_account_id())
UNION ALL
SELECT s.sandbox_id, s.account_id, s.owner_id, s.name, s.tier, s.status,
       s.storage_provider_type, s.storage_config,
       ROW(t.max_storage_bytes, t.max_data_sources, t.max_projects,
           t.max_connections, t.max_sandboxes, t.allow_custom_s3)::copass.limits AS limits,
       s.metadata, g.role AS access, true AS is_external,
       s.created_at, s.updated_at
  FROM plsb_data.grants_to_me g
  JOIN plsb_data.sandbox s ON s.account_id = g.account_id AND s.sandbox_id = g.sandbox_id
  LEFT JOIN plsb_data.tiers t ON t.tier = s.tier;

-- Input checks -------------------------------------------------------------------------

-- A name or label: NFC, 1..255 characters, not whitespace-only, no control characters.
CREATE FUNCTION plsb.check_name(value text, field text) RETURNS text
    LANGUAGE plpgsql IMMUTABLE
    AS $$
DECLARE
    clean text;
BEGIN
    IF value = '' THEN
        RAISE EXCEPTION '% must not be empty', field USING ERRCODE = '22023';
    END IF;
    clean := pg_catalog.normalize(value, 'NFC');
    IF pg_catalog.length(clean) > 255 THEN
        RAISE EXCEPTION '% is longer than 255 characters', field USING ERRCODE = '22001';
    END IF;
    IF clean ~ '[\u0001-\u001f\u007f-\u009f]' THEN
        RAISE EXCEPTION '% must not contain control characters', field USING ERRCODE = '22023';
    END IF;
    IF clean ~ '^[ \u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]*$' THEN
        RAISE EXCEPTION '% must not be blank', field USING ERRCODE = '22023';
    END IF;
    RETURN clean;
END
$$;

CREATE FUNCTION plsb.check_storage(custom_s3 boolean, allow_custom_s3 boolean, config jsonb) RETURNS void
    LANGUAGE plpgsql IMMUTABLE
    AS $$
DECLARE
    k text;
BEGIN
    IF NOT custom_s3 THEN
        IF config IS NOT NULL THEN
            RAISE EXCEPTION 'platform_s3 takes no storage_config' USING ERRCODE = '22023';
        END IF;
        RETURN;
    END IF;
    IF NOT COALESCE(allow_custom_s3, false) THEN
        RAISE EXCEPTION 'this tier does not allow custom_s3 storage' USING ERRCODE = 'PT402';
    END IF;
    IF pg_catalog.jsonb_typeof(config) IS DISTINCT FROM 'object' THEN
        RAISE EXCEPTION 'custom_s3 needs a storage_config object' USING ERRCODE = '22023';
    END IF;
    FOR k IN SELECT pg_catalog.jsonb_object_keys(config) LOOP
        IF k ~* '(secret|password|access.?key|token)' THEN
            RAISE EXCEPTION 'storage_config must not hold credentials; credentials are never stored'
                USING ERRCODE = '22023';
        END IF;
        IF k NOT IN ('bucket', 'region', 'endpoint', 'prefix') THEN
            RAISE EXCEPTION 'storage_config has an unknown key' USING ERRCODE = '22023';
        END IF;
    END LOOP;
    IF pg_catalog.jsonb_typeof(config -> 'bucket') IS DISTINCT FROM 'string'
       OR NOT (config ->> 'bucket') ~ '^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$'
       OR pg_catalog.jsonb_typeof(config -> 'region') IS DISTINCT FROM 'string' THEN
        RAISE EXCEPTION 'storage_config needs a valid bucket and a region' USING ERRCODE = '22023';
    END IF;
END
$$;

-- The API ------------------------------------------------------------------------------

CREATE FUNCTION plsb.sandbox_create(
    name text,
    owner_id uuid,
    tier copass.tier DEFAULT 'free',
    metadata jsonb DEFAULT '{}',
    storage_provider_type copass.storage_provider DEFAULT 'platform_s3',
    storage_config jsonb DEFAULT NULL
) RETURNS copass.sandbox
    LANGUAGE plpgsql VOLATILE
    AS $$
#variable_conflict use_column
DECLARE
    account uuid := plsb.require_account();
    clean text;
    lim copass.limits;
    created plsb_data.sandbox;
BEGIN
    IF sandbox_create.name IS NULL THEN
        RAISE EXCEPTION 'name must not be null' USING ERRCODE = '22023';
    ELSIF sandbox_create.owner_id IS NULL THEN
        RAISE EXCEPTION 'owner_id must not be null' USING ERRCODE = '22023';
    ELSIF sandbox_create.tier IS NULL THEN
        RAISE EXCEPTION 'tier must not be null' USING ERRCODE = '22023';
    ELSIF sandbox_create.metadata IS NULL THEN
        RAISE EXCEPTION 'metadata must not be null' USING ERRCODE = '22023';
    ELSIF sandbox_create.storage_provider_type IS NULL THEN
        RAISE EXCEPTION 'storage_provider_type must not be null' USING ERRCODE = '22023';
    END IF;
    clean := plsb.check_name(sandbox_create.name, 'name');
    IF pg_catalog.jsonb_typeof(sandbox_create.metadata) <> 'object' THEN
        RAISE EXCEPTION 'metadata must be a JSON object' USING ERRCODE = '22023';
    END IF;
    IF pg_catalog.octet_length(sandbox_create.metadata::text) >
       COALESCE(pg_catalog.current_setting('copass.max_metadata_bytes', true), '65536')::int THEN
        RAISE EXCEPTION 'metadata is too large' USING ERRCODE = '22023';
    END IF;

    SELECT t.max_storage_bytes, t.max_data_sources, t.max_projects, t.max_connections,
           t.max_sandboxes, t.allow_custom_s3
      INTO lim
      FROM plsb_data.tiers t WHERE t.tier = sandbox_create.tier;
    PERFORM plsb.check_storage(sandbox_create.storage_provider_type = 'custom_s3',
                               lim.allow_custom_s3, sandbox_create.storage_config);

    INSERT INTO plsb_data.sandbox AS s (account_id, sandbox_id, owner_id, name, tier,
                                       storage_provider_type, storage_config, metadata,
                                       created_at, updated_at)
    VALUES (account, plsb.uuid7(), sandbox_create.owner_id, clean, sandbox_create.tier,
            sandbox_create.storage_provider_type, sandbox_create.storage_config,
            sandbox_create.metadata, pg_catalog.now(), pg_catalog.now())
    ON CONFLICT (account_id, owner_id, name) DO NOTHING
    RETURNING s.* INTO created;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'a sandbox with this name already exists for this owner' USING ERRCODE = '23505';
    END IF;

    IF lim.max_sandboxes IS NOT NULL AND lim.max_sandboxes < 1 THEN
        RAISE EXCEPTION 'the account has reached the sandbox limit of this tier' USING ERRCODE = 'PT402';
    END IF;
    INSERT INTO plsb_data.account_usage AS u (account_id, tier, sandboxes)
    VALUES (account, sandbox_create.tier, 1)
    ON CONFLICT (account_id, tier) DO UPDATE SET sandboxes = u.sandboxes + 1
     WHERE lim.max_sandboxes IS NULL OR u.sandboxes < lim.max_sandboxes;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'the account has reached the sandbox limit of this tier' USING ERRCODE = 'PT402';
    END IF;

    PERFORM pg_catalog.set_config('response.status', '201', true);
    RETURN ROW(created.sandbox_id, created.account_id, created.owner_id, created.name,
               created.tier, created.status, created.storage_provider_type,
               created.storage_config, lim, created.metadata, 'owner', false,
               created.created_at, created.updated_at)::copass.sandbox;
END
$$;

CREATE FUNCTION plsb.sandbox_list_by_owner(
    owner_id uuid,
    include_connections boolean DEFAULT true,
    page_size integer DEFAULT 100,
    after_id uuid DEFAULT NULL
) RETURNS SETOF copass.sandbox
    LANGUAGE plpgsql STABLE ROWS 100
    AS $$
#variable_conflict use_column
BEGIN
    PERFORM plsb.require_account();
    IF sandbox_list_by_owner.owner_id IS NULL THEN
        RAISE EXCEPTION 'owner_id must not be null' USING ERRCODE = '22023';
    ELSIF include_connections IS NULL THEN
        RAISE EXCEPTION 'include_connections must not be null' USING ERRCODE = '22023';
    ELSIF page_size IS NULL OR page_size < 1 OR page_size > 1000 THEN
        RAISE EXCEPTION 'page_size must be between 1 and 1000' USING ERRCODE = '22023';
    END IF;
    IF include_connections THEN
        RETURN QUERY
            SELECT v.* FROM plsb.sandboxes v
             WHERE v.owner_id = sandbox_list_by_owner.owner_id
               AND v.sandbox_id > COALESCE(after_id, '00000000-0000-0000-0000-000000000000')
             ORDER BY v.sandbox_id LIMIT page_size;
    ELSE
        RETURN QUERY
            SELECT v.sandbox_id, v.account_id, v.owner_id, v.name, v.tier, v.status,
                   v.storage_provider_type, v.storage_config, v.limits, v.metadata,
                   NULL::copass.access_level, v.is_external, v.created_at, v.updated_at
              FROM plsb.sandboxes v
             WHERE NOT v.is_external AND v.owner_id = sandbox_list_by_owner.owner_id
               AND v.sandbox_id > COALESCE(after_id, '00000000-0000-0000-0000-000000000000')
             ORDER BY v.sandbox_id LIMIT page_size;
    END IF;
END
$$;

CREATE FUNCTION plsb.connection_grant(
    sandbox_id uuid,
    grantee_account_id uuid,
    role copass.access_level,
    expires_at timestamptz DEFAULT NULL,
    label text DEFAULT NULL
) RETURNS copass.connection
    LANGUAGE plpgsql VOLATILE
    AS $$
#variable_conflict use_column
DECLARE
    account uuid := plsb.require_account();
    target record;
    max_connections integer;
    active bigint;
    clean_label text;
    result copass.connection;
BEGIN
    IF connection_grant.sandbox_id IS NULL THEN
        RAISE EXCEPTION 'sandbox_id must not be null' USING ERRCODE = '22023';
    ELSIF connection_grant.grantee_account_id IS NULL THEN
        RAISE EXCEPTION 'grantee_account_id must not be null' USING ERRCODE = '22023';
    ELSIF connection_grant.role IS NULL THEN
        RAISE EXCEPTION 'role must not be null' USING ERRCODE = '22023';
    ELSIF connection_grant.role = 'owner' THEN
        RAISE EXCEPTION 'role must be editor or viewer' USING ERRCODE = '22023';
    ELSIF connection_grant.grantee_account_id = account THEN
        RAISE EXCEPTION 'a sandbox cannot be shared with its own account' USING ERRCODE = '22023';
    ELSIF connection_grant.expires_at <= pg_catalog.statement_timestamp() THEN
        RAISE EXCEPTION 'expires_at must be in the future' USING ERRCODE = '22023';
    END IF;
    IF connection_grant.label IS NOT NULL THEN
        clean_label := plsb.check_name(connection_grant.label, 'label');
    END IF;

    SELECT v.account_id, v.access INTO target
      FROM plsb.sandboxes v WHERE v.sandbox_id = connection_grant.sandbox_id;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'sandbox not found' USING ERRCODE = 'PT404';
    ELSIF target.access <> 'owner' THEN
        RAISE EXCEPTION 'only the sandbox''s owner can do this' USING ERRCODE = '42501';
    END IF;

    -- lock the sandbox: grants to it queue here, so the count below is exact
    SELECT t.max_connections INTO max_connections
      FROM plsb_data.sandbox s JOIN plsb_data.tiers t ON t.tier = s.tier
     WHERE s.account_id = target.account_id AND s.sandbox_id = connection_grant.sandbox_id
       FOR UPDATE OF s;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'sandbox not found' USING ERRCODE = 'PT404';
    END IF;
    IF max_connections IS NOT NULL THEN
        SELECT pg_catalog.count(*) INTO active
          FROM plsb_data.connection c
         WHERE c.account_id = target.account_id AND c.sandbox_id = connection_grant.sandbox_id
           AND c.grantee_account_id <> connection_grant.grantee_account_id
           AND plsb_data.connection_status(c.revoked_at, c.expires_at) = 'active';
        IF active >= max_connections THEN
            RAISE EXCEPTION 'the sandbox has reached the connection limit of its tier' USING ERRCODE = 'PT402';
        END IF;
    END IF;

    INSERT INTO plsb_data.connection AS c (account_id, sandbox_id, grantee_account_id,
        connection_id, role, label, expires_at, created_by, created_at, updated_at)
    VALUES (target.account_id, connection_grant.sandbox_id, connection_grant.grantee_account_id,
            plsb.uuid7(), connection_grant.role, clean_label, connection_grant.expires_at,
            account, pg_catalog.now(), pg_catalog.now())
    ON CONFLICT (account_id, sandbox_id, grantee_account_id) DO UPDATE
       SET role = excluded.role, label = excluded.label, expires_at = excluded.expires_at,
           revoked_at = NULL, updated_at = excluded.updated_at
    RETURNING c.connection_id, c.sandbox_id, c.grantee_account_id, c.role, c.label,
              c.expires_at, c.revoked_at, c.created_by, c.created_at,
              plsb_data.connection_status(c.revoked_at, c.expires_at)
         INTO result;
    RETURN result;
END
$$;

-- Privileges: the same shape as copass.grant_access --------------------------------------

REVOKE ALL ON ALL FUNCTIONS IN SCHEMA plsb, plsb_data FROM PUBLIC;
GRANT USAGE ON SCHEMA plsb, plsb_data TO bench_api, bench_bypass;
GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA plsb, plsb_data TO bench_api, bench_bypass;
GRANT SELECT ON plsb.sandboxes, plsb_data.tiers, plsb_data.grants_to_me TO bench_api, bench_bypass;
GRANT SELECT, INSERT, DELETE ON plsb_data.sandbox, plsb_data.connection TO bench_api, bench_bypass;
GRANT UPDATE (name, metadata, status, updated_at) ON plsb_data.sandbox TO bench_api, bench_bypass;
GRANT UPDATE (role, label, expires_at, revoked_at, updated_at) ON plsb_data.connection TO bench_api, bench_bypass;
GRANT SELECT, INSERT, UPDATE ON plsb_data.account_usage TO bench_api, bench_bypass;
