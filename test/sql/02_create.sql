-- copass.sandbox_create: every rule on input and every error, with its SQLSTATE.
\set VERBOSITY terse
SET ROLE regress_copass_api;

-- without an account nothing is created
SELECT regress.try($$SELECT copass.sandbox_create('a', '00000000-0000-4000-8000-000000000001')$$);

SET copass.account_id = 'aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa';

-- the defaults: free tier, platform_s3, empty metadata, access owner
SELECT name, owner_id, tier, status, storage_provider_type, storage_config, limits,
       metadata, access, is_external, account_id,
       created_at = now() AS created_now, updated_at = created_at AS updated_same
  FROM copass.sandbox_create('first', '00000000-0000-4000-8000-000000000001');

-- named arguments, every field
SELECT name, tier, metadata, limits
  FROM copass.sandbox_create(name => 'second', owner_id => '00000000-0000-4000-8000-000000000001',
                             tier => 'pro', metadata => '{"team": "data", "n": [1, 2]}');

-- a successful create asks PostgREST for 201 Created, for this transaction only
BEGIN;
SELECT coalesce(current_setting('response.status', true), '') AS status_before;
SELECT name FROM copass.sandbox_create('third', '00000000-0000-4000-8000-000000000001');
SELECT current_setting('response.status', true) AS status_after;
COMMIT;
SELECT coalesce(current_setting('response.status', true), '') AS status_next_transaction;

-- duplicate (account, owner_id, name): 23505, also across tiers
SELECT regress.try($$SELECT copass.sandbox_create('first', '00000000-0000-4000-8000-000000000001')$$);
SELECT regress.try($$SELECT copass.sandbox_create('first', '00000000-0000-4000-8000-000000000001', 'enterprise')$$);
-- the same name for another owner is fine
SELECT name, owner_id FROM copass.sandbox_create('first', '00000000-0000-4000-8000-000000000002');

-- names: stored in NFC, and uniqueness is on the stored form
SELECT name = U&'caf\00E9' AS nfc, length(name)
  FROM copass.sandbox_create(U&'cafe\0301', '00000000-0000-4000-8000-000000000001');
SELECT regress.try($$SELECT copass.sandbox_create(U&'caf\00E9', '00000000-0000-4000-8000-000000000001')$$);
-- 255 characters is the limit, counted after normalizing
SELECT length(name) FROM copass.sandbox_create(repeat('x', 255), '00000000-0000-4000-8000-000000000001');
SELECT length(name) FROM copass.sandbox_create(repeat(U&'\00E9', 255), '00000000-0000-4000-8000-000000000001');
SELECT length(name) FROM copass.sandbox_create(repeat(U&'e\0301', 255), '00000000-0000-4000-8000-000000000003');
SELECT length(name) FROM copass.sandbox_create(repeat(U&'\D83D\DE00', 255), '00000000-0000-4000-8000-000000000001');
SELECT name FROM copass.sandbox_create(' padded name ', '00000000-0000-4000-8000-000000000001');
SELECT name FROM copass.sandbox_create('名前', '00000000-0000-4000-8000-000000000001');

SELECT label, regress.try(format('SELECT copass.sandbox_create(%L, %L)', name, '00000000-0000-4000-8000-000000000001'))
  FROM (VALUES ('256 characters', repeat('x', 256)),
               ('256 after normalizing', repeat(U&'e\0301', 256)),
               ('huge', repeat('x', 1000000)),
               ('empty', ''),
               ('spaces', '   '),
               ('unicode spaces', U&'\00A0\2003\3000'),
               ('tab', E'a\tb'),
               ('newline', E'a\nb'),
               ('escape', E'a\x1bb'),
               ('DEL', E'a\x7fb'),
               ('C1 control', U&'a\0085b'),
               ('only a tab', E'\t'),
               ('zero-width spaces', U&'\200B\200B'),
               ('zero-width joiner inside', U&'a\200Db'),
               ('right-to-left override', U&'abc\202Edef'),
               ('byte order mark', U&'\FEFFname'),
               ('line separator', U&'a\2028b'),
               ('soft hyphen', U&'na\00ADme'),
               ('Hangul filler only', U&'\3164'),
               ('braille blank only', U&'\2800\2800')) AS t(label, name);
SELECT regress.try($$SELECT copass.sandbox_create(NULL, '00000000-0000-4000-8000-000000000001')$$);

-- owner_id, tier, metadata, storage_provider_type: NULL is an invalid argument
SELECT regress.try($$SELECT copass.sandbox_create('n', NULL)$$);
SELECT regress.try($$SELECT copass.sandbox_create('n', '00000000-0000-4000-8000-000000000001', NULL)$$);
SELECT regress.try($$SELECT copass.sandbox_create('n', '00000000-0000-4000-8000-000000000001', metadata => NULL)$$);
SELECT regress.try($$SELECT copass.sandbox_create('n', '00000000-0000-4000-8000-000000000001', storage_provider_type => NULL)$$);
-- a bad uuid or tier fails in the type's own input function
SELECT regress.try($$SELECT copass.sandbox_create('n', 'not-a-uuid')$$);
SELECT regress.try($$SELECT copass.sandbox_create('n', '00000000-0000-4000-8000-000000000001', 'gold')$$);

-- metadata: a JSON object, at most copass.max_metadata_bytes as text
SELECT label, regress.try(format('SELECT copass.sandbox_create(%L, %L, metadata => %L)', 'm', '00000000-0000-4000-8000-000000000001', metadata))
  FROM (VALUES ('array', '[]'), ('string', '"x"'), ('number', '1'), ('json null', 'null'),
               ('too big', json_build_object('x', repeat('y', 65536))::text)) AS t(label, metadata);
SELECT octet_length(metadata::text) FROM copass.sandbox_create('m1', '00000000-0000-4000-8000-000000000001',
       metadata => json_build_object('x', repeat('y', 65536 - 9))::jsonb);
RESET ROLE;
SET copass.max_metadata_bytes = 10;
SET ROLE regress_copass_api;
SELECT regress.try($$SELECT copass.sandbox_create('m2', '00000000-0000-4000-8000-000000000001', metadata => '{"ab": "cd"}')$$);
SELECT name FROM copass.sandbox_create('m2', '00000000-0000-4000-8000-000000000001', metadata => '{"a": "b"}');
-- only a superuser (or a role granted SET) changes the limit
SELECT regress.try($$SET copass.max_metadata_bytes = 1000000$$);
RESET ROLE;
RESET copass.max_metadata_bytes;
SET ROLE regress_copass_api;

-- storage: platform_s3 takes no storage_config
SELECT regress.try($$SELECT copass.sandbox_create('s', '00000000-0000-4000-8000-000000000001', storage_config => '{"bucket": "b"}')$$);
-- custom_s3 needs a tier that allows it
SELECT regress.try($$SELECT copass.sandbox_create('s', '00000000-0000-4000-8000-000000000001', 'pro', '{}', 'custom_s3', '{"bucket": "my-bucket", "region": "eu-west-1"}')$$);
SELECT name, storage_provider_type, storage_config
  FROM copass.sandbox_create('s3', '00000000-0000-4000-8000-000000000001', 'enterprise', '{}', 'custom_s3',
                             '{"bucket": "my.bucket-1", "region": "eu-west-1", "endpoint": "https://s3.example.com", "prefix": "team/a"}');
-- and a valid storage_config: anything else is refused, credentials with their own message
SELECT label, regress.try(format('SELECT copass.sandbox_create(%L, %L, %L, %L, %L, %L)', 's', '00000000-0000-4000-8000-000000000001', 'enterprise', '{}', 'custom_s3', config))
  FROM (VALUES ('missing', NULL),
               ('array', '[]'),
               ('no region', '{"bucket": "my-bucket"}'),
               ('no bucket', '{"region": "eu-west-1"}'),
               ('short bucket', '{"bucket": "ab", "region": "r"}'),
               ('long bucket', json_build_object('bucket', repeat('b', 64), 'region', 'r')::text),
               ('upper-case bucket', '{"bucket": "My-Bucket", "region": "r"}'),
               ('bucket with ..', '{"bucket": "my..bucket", "region": "r"}'),
               ('bucket ends with -', '{"bucket": "my-bucket-", "region": "r"}'),
               ('bucket is an IP', '{"bucket": "192.168.1.1", "region": "r"}'),
               ('bucket xn--', '{"bucket": "xn--bucket", "region": "r"}'),
               ('bucket -s3alias', '{"bucket": "bucket-s3alias", "region": "r"}'),
               ('bucket number', '{"bucket": 42, "region": "r"}'),
               ('bad region', '{"bucket": "my-bucket", "region": "EU WEST"}'),
               ('endpoint with user', '{"bucket": "my-bucket", "region": "r", "endpoint": "https://u:p@host"}'),
               ('endpoint not a URL', '{"bucket": "my-bucket", "region": "r", "endpoint": "ftp://host"}'),
               ('empty prefix', '{"bucket": "my-bucket", "region": "r", "prefix": ""}'),
               ('object prefix', '{"bucket": "my-bucket", "region": "r", "prefix": {}}'),
               ('unknown key', '{"bucket": "my-bucket", "region": "r", "acl": "public"}'),
               ('secret key', '{"bucket": "my-bucket", "region": "r", "secret_access_key": "x"}'),
               ('access key', '{"bucket": "my-bucket", "region": "r", "AccessKeyId": "x"}'),
               ('password', '{"bucket": "my-bucket", "region": "r", "password": "x"}'),
               ('token', '{"bucket": "my-bucket", "region": "r", "session-token": "x"}'),
               ('credential after an unknown key', '{"bucket": "my-bucket", "region": "r", "x": 1, "secret": "s"}'),
               ('credential and a bad bucket', '{"bucket": "B", "region": "r", "password": "p"}')) AS t(label, config);

-- the max_sandboxes quota, per account and tier: PT402 at the limit
RESET ROLE;
UPDATE copass_data.tiers SET max_sandboxes = 2 WHERE tier = 'pro';
SET ROLE regress_copass_api;
SELECT name FROM copass.sandbox_create('pro-2', '00000000-0000-4000-8000-000000000009', 'pro');
SELECT regress.try($$SELECT copass.sandbox_create('pro-3', '00000000-0000-4000-8000-000000000009', 'pro')$$);
-- a failed create leaves nothing behind: no sandbox, no count
SELECT count(*) FROM copass.sandboxes WHERE name = 'pro-3';
SELECT tier, sandboxes FROM copass_data.account_usage ORDER BY tier;
-- other tiers and other accounts have their own quota
SELECT name FROM copass.sandbox_create('free-9', '00000000-0000-4000-8000-000000000009');
SET copass.account_id = 'bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb';
SELECT name FROM copass.sandbox_create('pro-1', '00000000-0000-4000-8000-000000000009', 'pro');
-- a limit of 0 allows none
RESET ROLE;
UPDATE copass_data.tiers SET max_sandboxes = 0 WHERE tier = 'enterprise';
SET ROLE regress_copass_api;
SELECT regress.try($$SELECT copass.sandbox_create('e', '00000000-0000-4000-8000-000000000009', 'enterprise')$$);
RESET ROLE;
UPDATE copass_data.tiers SET max_sandboxes = NULL WHERE tier = 'enterprise';
UPDATE copass_data.tiers SET max_sandboxes = 100000 WHERE tier = 'pro';
SET ROLE regress_copass_api;
SET copass.account_id = 'aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa';

-- ids are UUIDv7 and strictly increasing within a backend, even within one millisecond
SELECT count(*) AS created,
       bool_and(substr(sandbox_id::text, 15, 1) = '7') AS version_7,
       bool_and(substr(sandbox_id::text, 20, 1) IN ('8', '9', 'a', 'b')) AS variant_rfc,
       bool_and(prev IS NULL OR prev < sandbox_id) AS increasing
  FROM (SELECT s.sandbox_id, lag(s.sandbox_id) OVER (ORDER BY g) AS prev
          FROM generate_series(1, 500) g,
               LATERAL copass.sandbox_create('burst ' || g, '00000000-0000-4000-8000-0000000000b0') s) x;
-- the id's timestamp is the creation time
SELECT abs(extract(epoch FROM now()) * 1000 - ('x' || substr(replace(sandbox_id::text, '-', ''), 1, 12))::bit(48)::bigint) < 60000 AS id_time_is_now
  FROM copass.sandbox_create('clock', '00000000-0000-4000-8000-0000000000b0');

-- tier_limits: the quota derivation, no account needed
RESET copass.account_id;
SELECT tier, (copass.tier_limits(tier)).* FROM unnest(enum_range(NULL::copass.tier)) AS tier;
SELECT regress.try($$SELECT copass.tier_limits(NULL)$$);
RESET ROLE;
-- tier_limits reads each tier once per query: one query gives one answer per
-- tier, and the next query sees the operator's change
BEGIN;
UPDATE copass_data.tiers SET max_projects = 51 WHERE tier = 'pro';
SELECT t, (copass.tier_limits(t)).max_projects
  FROM unnest(ARRAY['pro', 'free', 'pro', 'enterprise', 'pro']::copass.tier[]) WITH ORDINALITY AS u(t, n) ORDER BY n;
UPDATE copass_data.tiers SET max_projects = 52 WHERE tier = 'pro';
SELECT (copass.tier_limits('pro')).max_projects;
ROLLBACK;
