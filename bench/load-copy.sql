-- One copy of the staged rows (bench/load.sql) into the tables of schema
-- :"data" (copass_data, raw or plsb_data), as the superuser.
\set ON_ERROR_STOP on
SET synchronous_commit = off;
INSERT INTO :"data".sandbox (account_id, sandbox_id, owner_id, name, tier, status,
        storage_provider_type, storage_config, metadata, created_at, updated_at)
SELECT account_id, sandbox_id, owner_id, name, tier, status,
       storage_provider_type, storage_config, metadata, created_at, updated_at
  FROM bench.stage_sandbox;
INSERT INTO :"data".connection (account_id, sandbox_id, grantee_account_id, connection_id,
        role, label, expires_at, revoked_at, created_by, created_at, updated_at)
SELECT account_id, sandbox_id, grantee_account_id, connection_id,
       role, label, expires_at, revoked_at, created_by, created_at, updated_at
  FROM bench.stage_connection;
INSERT INTO :"data".account_usage (account_id, tier, sandboxes)
SELECT account_id, tier, pg_catalog.count(*) FROM bench.stage_sandbox GROUP BY 1, 2;
VACUUM (ANALYZE) :"data".sandbox, :"data".connection;
