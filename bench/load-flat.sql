-- The create-flatness accounts, loaded after the other workloads of a size
-- have run: 5000 accounts whose one owner has 1 sandbox, 2000 with 10, 300
-- with 100 and 50 with 1000 (account c0000000-…, its owner d0000000-…, both
-- -0000-4000-8000-<100000000000 + bucket * 1000000 + x>), into copass_data,
-- raw and plsb_data alike, with exact account_usage counts.
\set ON_ERROR_STOP on
DROP TABLE IF EXISTS bench.stage_flat;
CREATE UNLOGGED TABLE bench.stage_flat AS
SELECT id AS account_id,
       bench.v7(1750000000000 + b * 1000000 + x * 1000 + m, 'f' || b || '.' || x || '.' || m) AS sandbox_id,
       ('d' || pg_catalog.substr(id::text, 2))::uuid AS owner_id,
       'flat ' || m AS name, 'pro'::copass.tier AS tier, 'active'::copass.sandbox_status AS status,
       'platform_s3'::copass.storage_provider AS storage_provider_type, NULL::jsonb AS storage_config,
       '{"env": "bench"}'::jsonb AS metadata,
       timestamptz '2025-06-15 14:13:20+00' AS created_at, timestamptz '2025-06-15 14:13:20+00' AS updated_at
  FROM (VALUES (1, 5000), (10, 2000), (100, 300), (1000, 50)) v(b, naccts),
       generate_series(0, naccts - 1) x,
       generate_series(0, b - 1) m,
       LATERAL (SELECT ('c0000000-0000-4000-8000-' || (100000000000 + b * 1000000 + x))::uuid AS id) a;
INSERT INTO copass_data.sandbox SELECT * FROM bench.stage_flat;
INSERT INTO raw.sandbox SELECT * FROM bench.stage_flat;
INSERT INTO plsb_data.sandbox SELECT * FROM bench.stage_flat;
INSERT INTO copass_data.account_usage SELECT account_id, tier, pg_catalog.count(*) FROM bench.stage_flat GROUP BY 1, 2;
INSERT INTO plsb_data.account_usage SELECT account_id, tier, pg_catalog.count(*) FROM bench.stage_flat GROUP BY 1, 2;
VACUUM (ANALYZE) copass_data.sandbox, copass_data.account_usage, raw.sandbox, plsb_data.sandbox, plsb_data.account_usage;
