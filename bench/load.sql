-- Load one data size, as the superuser (row-level security does not apply),
-- straight into the tables: the API would take hours for 1e7 rows.
-- psql variables: n (sandboxes), accounts, n100 = n/200 owners with 100
-- sandboxes each, n10 = n/20 owners with 10 sandboxes each.
--
-- Sandbox i (0 <= i < n): even i belongs to owner (1, i/2 % n100), odd i to
-- owner (2, i/2 % n10); owner k's account is k % accounts.  Rows go in in the
-- order of i, so one owner's sandboxes are spread over the whole heap, as
-- they would be after years of creates; ids increase with i (UUIDv7-shaped,
-- see setup.sql) and created_at is 2023-11-14 22:13:20 UTC + i ms.
-- account_usage holds the exact count per account (tier pro, whose
-- max_sandboxes of 100000 no account reaches).  Every 100th sandbox is shared
-- (viewer) with another account, so "shared with me" has rows to find.
--
-- bench/run loads the same staged rows into copass_data, raw and plsb_data
-- with three concurrent sessions (load-copy.sql).
\set ON_ERROR_STOP on
TRUNCATE copass_data.connection, copass_data.sandbox, copass_data.account_usage,
         raw.connection, raw.sandbox, raw.account_usage,
         plsb_data.connection, plsb_data.sandbox, plsb_data.account_usage;
DROP TABLE IF EXISTS bench.stage_sandbox, bench.stage_connection, bench.stage_flat;

CREATE UNLOGGED TABLE bench.stage_sandbox AS
SELECT bench.account(acct) AS account_id,
       bench.sandbox_id(i) AS sandbox_id,
       owner_id,
       'sandbox ' || i AS name,
       'pro'::copass.tier AS tier,
       'active'::copass.sandbox_status AS status,
       'platform_s3'::copass.storage_provider AS storage_provider_type,
       NULL::jsonb AS storage_config,
       '{"env": "bench"}'::jsonb AS metadata,
       ts AS created_at,
       ts AS updated_at
  FROM (SELECT i,
               CASE WHEN i % 2 = 0 THEN bench.owner(1, i / 2 % :n100)
                    ELSE bench.owner(2, i / 2 % :n10) END AS owner_id,
               CASE WHEN i % 2 = 0 THEN i / 2 % :n100 % :accounts
                    ELSE i / 2 % :n10 % :accounts END AS acct,
               timestamptz '2023-11-14 22:13:20+00' + i * interval '1 ms' AS ts
          FROM generate_series(0::bigint, :n - 1) i) g;

CREATE UNLOGGED TABLE bench.stage_connection AS
SELECT bench.account(acct) AS account_id,
       bench.sandbox_id(i) AS sandbox_id,
       bench.account((acct + 1 + i / 100 % (:accounts - 1)) % :accounts) AS grantee_account_id,
       bench.v7(1700000000000 + i, 'c' || i) AS connection_id,
       'viewer'::copass.access_level AS role,
       NULL::text AS label,
       NULL::timestamptz AS expires_at,
       NULL::timestamptz AS revoked_at,
       bench.account(acct) AS created_by,
       ts AS created_at,
       ts AS updated_at
  FROM (SELECT i, i / 2 % :n100 % :accounts AS acct,
               timestamptz '2023-11-14 22:13:20+00' + i * interval '1 ms' AS ts
          FROM generate_series(0::bigint, :n - 1, 100) i) g;
