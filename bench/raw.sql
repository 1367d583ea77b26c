-- Baseline (a): raw tables with the same columns, constraints and indexes as
-- copass_data.sandbox and copass_data.connection, and nothing else: no
-- row-level security, no usage counter, no API.  The benchmark's raw scripts
-- run a plain INSERT ... RETURNING * and a plain index scan against them.
-- raw.account_usage serves only the instruction counts' "same work" rows
-- (bench/callgrind): a raw INSERT plus the usage-counter UPDATE that makes a
-- quota exact, and a raw SELECT of the row copass returns.
-- Loaded with exactly the rows copass_data holds (bench/load.sql), in the
-- same order, so the heaps and indexes have the same shape.

CREATE SCHEMA raw;

CREATE TABLE raw.sandbox (LIKE copass_data.sandbox INCLUDING ALL);
CREATE TABLE raw.account_usage (LIKE copass_data.account_usage INCLUDING ALL);
CREATE TABLE raw.connection (LIKE copass_data.connection INCLUDING ALL,
    FOREIGN KEY (account_id, sandbox_id) REFERENCES raw.sandbox ON DELETE CASCADE);

GRANT USAGE ON SCHEMA raw TO bench_api, bench_bypass;
GRANT SELECT, INSERT, UPDATE, DELETE ON raw.sandbox, raw.connection, raw.account_usage TO bench_api, bench_bypass;
