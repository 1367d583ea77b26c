-- Listing, paging and getting sandboxes; two accounts never see each other.
\set VERBOSITY terse
SET ROLE regress_copass_api;

-- without an account: refused, and the view shows nothing
SELECT regress.try($$SELECT * FROM copass.sandbox_list_by_owner('00000000-0000-4000-8000-000000000001')$$);
SELECT regress.try($$SELECT copass.sandbox_get('00000000-0000-4000-8000-000000000001')$$);
SELECT count(*) FROM copass.sandboxes;
SELECT count(*) FROM copass_data.sandbox;

-- account C: 25 sandboxes for one owner, 3 for another
SET copass.account_id = 'cccccccc-cccc-4ccc-8ccc-cccccccccccc';
SELECT count(*) FROM generate_series(1, 25) g,
       LATERAL copass.sandbox_create(format('c-%s', g), '00000000-0000-4000-8000-0000000000c1');
SELECT count(*) FROM generate_series(1, 3) g,
       LATERAL copass.sandbox_create(format('c2-%s', g), '00000000-0000-4000-8000-0000000000c2');

-- the first page, in sandbox_id (= creation) order, access owner
SELECT name, access, is_external FROM copass.sandbox_list_by_owner('00000000-0000-4000-8000-0000000000c1', page_size => 10);
-- keyset paging: after_id = the last id of the previous page, until a short page
CREATE TEMP TABLE pages AS
WITH RECURSIVE page(n, last_id, names) AS (
    SELECT 1, (array_agg(sandbox_id ORDER BY sandbox_id DESC))[1], array_agg(name ORDER BY sandbox_id)
      FROM copass.sandbox_list_by_owner('00000000-0000-4000-8000-0000000000c1', page_size => 10)
    UNION ALL
    SELECT p.n + 1, l.last_id, l.names
      FROM page p,
           LATERAL (SELECT (array_agg(sandbox_id ORDER BY sandbox_id DESC))[1] AS last_id, array_agg(name ORDER BY sandbox_id) AS names
                      FROM copass.sandbox_list_by_owner('00000000-0000-4000-8000-0000000000c1',
                                                        page_size => 10, after_id => p.last_id)) l
     WHERE cardinality(p.names) = 10
)
SELECT n, cardinality(names) AS size, names[1] AS first_name, names[cardinality(names)] AS last_name FROM page;
SELECT * FROM pages ORDER BY n;
-- a page after the last id is empty; page sizes 1 and 1000 work
SELECT count(*) FROM copass.sandbox_list_by_owner('00000000-0000-4000-8000-0000000000c1',
       after_id => 'ffffffff-ffff-4fff-bfff-ffffffffffff');
SELECT count(*) FROM copass.sandbox_list_by_owner('00000000-0000-4000-8000-0000000000c1', page_size => 1);
SELECT count(*) FROM copass.sandbox_list_by_owner('00000000-0000-4000-8000-0000000000c1', page_size => 1000);
-- the legacy owner-only listing: owned sandboxes, access NULL
SELECT count(*), count(access) AS with_access, bool_and(NOT is_external) AS owned
  FROM copass.sandbox_list_by_owner('00000000-0000-4000-8000-0000000000c1', include_connections => false, page_size => 1000);
-- an owner with nothing
SELECT count(*) FROM copass.sandbox_list_by_owner('00000000-0000-4000-8000-0000000000ff');

-- bad arguments
SELECT label, regress.try(sql) FROM (VALUES
    ('page_size 0', $$SELECT * FROM copass.sandbox_list_by_owner('00000000-0000-4000-8000-0000000000c1', page_size => 0)$$),
    ('page_size 1001', $$SELECT * FROM copass.sandbox_list_by_owner('00000000-0000-4000-8000-0000000000c1', page_size => 1001)$$),
    ('page_size -1', $$SELECT * FROM copass.sandbox_list_by_owner('00000000-0000-4000-8000-0000000000c1', page_size => -1)$$),
    ('page_size max int', $$SELECT * FROM copass.sandbox_list_by_owner('00000000-0000-4000-8000-0000000000c1', page_size => 2147483647)$$),
    ('page_size NULL', $$SELECT * FROM copass.sandbox_list_by_owner('00000000-0000-4000-8000-0000000000c1', page_size => NULL)$$),
    ('owner NULL', $$SELECT * FROM copass.sandbox_list_by_owner(NULL)$$),
    ('include_connections NULL', $$SELECT * FROM copass.sandbox_list_by_owner('00000000-0000-4000-8000-0000000000c1', NULL)$$),
    ('get NULL', $$SELECT copass.sandbox_get(NULL)$$),
    ('get random id', $$SELECT copass.sandbox_get('018f0000-0000-7000-8000-000000000000')$$)) AS t(label, sql);

-- sandbox_get of one's own sandbox
SELECT name, access FROM copass.sandbox_get(
    (SELECT sandbox_id FROM copass.sandboxes WHERE name = 'c2-1'));

-- account D sees none of C's sandboxes: not listed, not gettable (the same 404
-- as a random id), not in the view, not in the tables
SELECT set_config('regress.c_sandbox', (SELECT sandbox_id::text FROM copass.sandboxes WHERE name = 'c-1'), false) IS NOT NULL AS saved;
SET copass.account_id = 'dddddddd-dddd-4ddd-8ddd-dddddddddddd';
SELECT count(*) FROM copass.sandbox_list_by_owner('00000000-0000-4000-8000-0000000000c1');
SELECT regress.try(format('SELECT copass.sandbox_get(%L)', current_setting('regress.c_sandbox')));
SELECT count(*) FROM copass.sandboxes;
SELECT count(*) FROM copass_data.sandbox;
SELECT count(*) FROM copass_data.account_usage;
-- and cannot write C's rows directly either
UPDATE copass_data.sandbox SET name = 'stolen';
DELETE FROM copass_data.sandbox;
SELECT regress.try($$INSERT INTO copass_data.sandbox VALUES ('cccccccc-cccc-4ccc-8ccc-cccccccccccc', '018f0000-0000-7000-8000-000000000000', '00000000-0000-4000-8000-0000000000c1', 'x', 'free', 'active', 'platform_s3', NULL, '{}', now(), now())$$);
-- the same owner_id in D is D's own end-user
SELECT name, account_id FROM copass.sandbox_create('d-1', '00000000-0000-4000-8000-0000000000c1');
SELECT name FROM copass.sandbox_list_by_owner('00000000-0000-4000-8000-0000000000c1');

-- back in C, nothing changed
SET copass.account_id = 'cccccccc-cccc-4ccc-8ccc-cccccccccccc';
SELECT count(*), count(*) FILTER (WHERE name = 'stolen') AS stolen FROM copass.sandboxes;

-- the view serves GET /sandboxes?owner_id=eq.<uuid> with the same rows
SELECT count(*) FROM copass.sandboxes WHERE owner_id = '00000000-0000-4000-8000-0000000000c2';
SELECT (SELECT array_agg(v::text ORDER BY v.sandbox_id) FROM copass.sandboxes v WHERE owner_id = '00000000-0000-4000-8000-0000000000c2')
     = (SELECT array_agg(l::text ORDER BY l.sandbox_id) FROM copass.sandbox_list_by_owner('00000000-0000-4000-8000-0000000000c2') l)
       AS view_matches_list;
RESET copass.account_id;
RESET ROLE;
