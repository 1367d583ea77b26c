-- Sharing: connections, access levels, and what each level may do.
-- Account O owns; E is granted editor, V viewer; S is a stranger.
\set VERBOSITY terse
\set O '''0a000000-0000-4000-8000-00000000000a'''
\set E '''0e000000-0000-4000-8000-00000000000e'''
\set V '''0f000000-0000-4000-8000-00000000000f'''
\set S '''05000000-0000-4000-8000-000000000005'''
\set owner1 '''00000000-0000-4000-8000-0000000000a1'''
SET ROLE regress_copass_api;

SELECT set_config('copass.account_id', :O, false) IS NOT NULL AS as_owner;
SELECT sandbox_id AS shared FROM copass.sandbox_create('shared', :owner1, 'pro') \gset
SELECT sandbox_id AS private FROM copass.sandbox_create('private', :owner1, 'pro') \gset
SELECT sandbox_id AS small FROM copass.sandbox_create('small', :owner1) \gset

-- grant: editor and viewer; the result is the connection
SELECT sandbox_id = :'shared' AS same_sandbox, grantee_account_id, role, label, expires_at, revoked_at,
       created_by = :O AS created_by_owner, status
  FROM copass.connection_grant(:'shared', :E, 'editor', label => 'their team');
SELECT role, status FROM copass.connection_grant(:'shared', :V, 'viewer', now() + interval '1 day');

-- bad grants
SELECT label, regress.try(sql) FROM (VALUES
    ('role owner', format('SELECT copass.connection_grant(%L, %L, %L)', :'shared', :S, 'owner')),
    ('own account', format('SELECT copass.connection_grant(%L, %L, %L)', :'shared', :O, 'viewer')),
    ('expired already', format('SELECT copass.connection_grant(%L, %L, %L, now() - interval %L)', :'shared', :S, 'viewer', '1 second')),
    ('empty label', format('SELECT copass.connection_grant(%L, %L, %L, label => %L)', :'shared', :S, 'viewer', '')),
    ('long label', format('SELECT copass.connection_grant(%L, %L, %L, label => %L)', :'shared', :S, 'viewer', repeat('x', 256))),
    ('NULL sandbox', format('SELECT copass.connection_grant(NULL, %L, %L)', :S, 'viewer')),
    ('NULL grantee', format('SELECT copass.connection_grant(%L, NULL, %L)', :'shared', 'viewer')),
    ('NULL role', format('SELECT copass.connection_grant(%L, %L, NULL)', :'shared', :S)),
    ('bad role', format('SELECT copass.connection_grant(%L, %L, %L)', :'shared', :S, 'admin')),
    ('random sandbox', format('SELECT copass.connection_grant(%L, %L, %L)', '018f0000-0000-7000-8000-000000000000', :S, 'viewer')),
    ('revoke NULL', format('SELECT copass.connection_revoke(%L, NULL)', :'shared')),
    ('revoke no such grant', format('SELECT copass.connection_revoke(%L, %L)', :'shared', :S)),
    ('list NULL', 'SELECT copass.connection_list(NULL)'),
    ('list NULL include_revoked', format('SELECT copass.connection_list(%L, NULL)', :'shared'))) AS t(label, sql);

-- granting again updates the grant in place
SELECT role, label, status FROM copass.connection_grant(:'shared', :V, 'viewer', label => 'read only');
SELECT grantee_account_id, role, label, expires_at IS NULL AS no_expiry, status
  FROM copass.connection_list(:'shared') ORDER BY grantee_account_id;

-- max_connections (free: 3 active grants per sandbox), exact; re-granting an
-- existing grantee and revoked grants do not count
SELECT count(*) FROM (VALUES ('1a000000-0000-4000-8000-000000000001'), ('1a000000-0000-4000-8000-000000000002'),
                             ('1a000000-0000-4000-8000-000000000003')) AS g(grantee),
       LATERAL copass.connection_grant(:'small', g.grantee::uuid, 'viewer');
SELECT regress.try(format('SELECT copass.connection_grant(%L, %L, %L)', :'small', '1a000000-0000-4000-8000-000000000004', 'viewer'));
SELECT role FROM copass.connection_grant(:'small', '1a000000-0000-4000-8000-000000000003', 'editor');
SELECT status FROM copass.connection_revoke(:'small', '1a000000-0000-4000-8000-000000000003');
SELECT status FROM copass.connection_grant(:'small', '1a000000-0000-4000-8000-000000000004', 'viewer');
SELECT regress.try(format('SELECT copass.connection_grant(%L, %L, %L)', :'small', '1a000000-0000-4000-8000-000000000003', 'viewer'));
SELECT count(*) AS all_grants, count(*) FILTER (WHERE status = 'active') AS active
  FROM copass.connection_list(:'small', include_revoked => true);
SELECT count(*) AS listed_without_revoked FROM copass.connection_list(:'small');

-- the editor sees the shared sandbox, with access editor and is_external, in
-- the connection-union listing and the view, but not in the legacy listing
SELECT set_config('copass.account_id', :E, false) IS NOT NULL AS as_editor;
SELECT name, access, is_external, account_id = :O AS owners_account
  FROM copass.sandbox_list_by_owner(:owner1);
SELECT count(*) FROM copass.sandbox_list_by_owner(:owner1, include_connections => false);
SELECT name, access, is_external FROM copass.sandboxes;
SELECT name, access FROM copass.sandbox_get(:'shared');
-- and may rename it and change its metadata; NULL leaves a field as it is
SELECT name, metadata, access FROM copass.sandbox_update(:'shared', 'shared-renamed');
SELECT name, metadata FROM copass.sandbox_update(:'shared', metadata => '{"by": "editor"}');
SELECT name, metadata FROM copass.sandbox_update(:'shared');
-- but not what only the owner may do
SELECT label, regress.try(sql) FROM (VALUES
    ('set_status', format('SELECT copass.sandbox_set_status(%L, %L)', :'shared', 'archived')),
    ('delete', format('SELECT copass.sandbox_delete(%L)', :'shared')),
    ('grant', format('SELECT copass.connection_grant(%L, %L, %L)', :'shared', :S, 'viewer')),
    ('revoke', format('SELECT copass.connection_revoke(%L, %L)', :'shared', :V)),
    ('list connections', format('SELECT copass.connection_list(%L)', :'shared'))) AS t(label, sql);
-- the private sandbox is PT404, exactly like a random id
SELECT regress.try(format('SELECT copass.sandbox_get(%L)', :'private'));
SELECT regress.try(format('SELECT copass.sandbox_update(%L, %L)', :'private', 'x'));
-- the editor cannot write around the API either: no other rows, no grant rows
WITH u AS (UPDATE copass_data.sandbox SET name = 'hijacked' WHERE sandbox_id = :'private' RETURNING 1)
SELECT count(*) AS private_rows_changed FROM u;
WITH u AS (UPDATE copass_data.connection SET role = 'editor' RETURNING 1)
SELECT count(*) AS grant_rows_changed FROM u;
SELECT count(*) AS grants_visible_to_editor FROM copass_data.connection;

-- the viewer reads, and every write is 42501
SELECT set_config('copass.account_id', :V, false) IS NOT NULL AS as_viewer;
SELECT name, access, is_external FROM copass.sandbox_get(:'shared');
SELECT label, regress.try(sql) FROM (VALUES
    ('update name', format('SELECT copass.sandbox_update(%L, %L)', :'shared', 'mine')),
    ('update metadata', format('SELECT copass.sandbox_update(%L, metadata => %L)', :'shared', '{}')),
    ('set_status', format('SELECT copass.sandbox_set_status(%L, %L)', :'shared', 'archived')),
    ('delete', format('SELECT copass.sandbox_delete(%L)', :'shared')),
    ('grant', format('SELECT copass.connection_grant(%L, %L, %L)', :'shared', :S, 'viewer'))) AS t(label, sql);
WITH u AS (UPDATE copass_data.sandbox SET name = 'hijacked' RETURNING 1)
SELECT count(*) AS sandbox_rows_changed FROM u;
WITH u AS (UPDATE copass_data.connection SET role = 'editor' WHERE grantee_account_id = :V RETURNING 1)
SELECT count(*) AS own_grant_rows_changed FROM u;

-- the stranger gets PT404 for everything, the same answer as a random id
SELECT set_config('copass.account_id', :S, false) IS NOT NULL AS as_stranger;
SELECT label, regress.try(sql) FROM (VALUES
    ('get', format('SELECT copass.sandbox_get(%L)', :'shared')),
    ('update', format('SELECT copass.sandbox_update(%L, %L)', :'shared', 'x')),
    ('set_status', format('SELECT copass.sandbox_set_status(%L, %L)', :'shared', 'archived')),
    ('delete', format('SELECT copass.sandbox_delete(%L)', :'shared')),
    ('grant', format('SELECT copass.connection_grant(%L, %L, %L)', :'shared', :V, 'editor')),
    ('grant to its editor', format('SELECT copass.connection_grant(%L, %L, %L)', :'shared', :E, 'editor')),
    ('revoke', format('SELECT copass.connection_revoke(%L, %L)', :'shared', :E)),
    ('list connections', format('SELECT copass.connection_list(%L)', :'shared')),
    ('random id', format('SELECT copass.sandbox_get(%L)', '018f0000-0000-7000-8000-000000000000'))) AS t(label, sql);
SELECT count(*) FROM copass.sandboxes;
SELECT count(*) FROM copass.sandbox_list_by_owner(:owner1);
SELECT count(*) FROM copass_data.connection;

-- the owner: statuses, and nothing hijacked
SELECT set_config('copass.account_id', :O, false) IS NOT NULL AS as_owner;
SELECT name, status, access, is_external FROM copass.sandbox_list_by_owner(:owner1);
SELECT name, status FROM copass.sandbox_set_status(:'shared', 'suspended');
SELECT regress.try(format('SELECT copass.sandbox_set_status(%L, NULL)', :'shared'));
SELECT regress.try(format('SELECT copass.sandbox_set_status(%L, %L)', :'shared', 'deleted'));
SELECT name, status FROM copass.sandbox_set_status(:'shared', 'active');
-- a rename onto an existing name is a duplicate
SELECT regress.try(format('SELECT copass.sandbox_update(%L, %L)', :'shared', 'private'));
SELECT label, regress.try(sql) FROM (VALUES
    ('empty name', format('SELECT copass.sandbox_update(%L, %L)', :'shared', '')),
    ('long name', format('SELECT copass.sandbox_update(%L, %L)', :'shared', repeat('x', 256))),
    ('control', format('SELECT copass.sandbox_update(%L, %L)', :'shared', E'a\nb')),
    ('array metadata', format('SELECT copass.sandbox_update(%L, metadata => %L)', :'shared', '[]')),
    ('NULL id', 'SELECT copass.sandbox_update(NULL)')) AS t(label, sql);

-- an expired grant gives no access from that moment, with no job to run
RESET ROLE;
UPDATE copass_data.connection SET expires_at = now() - interval '1 second'
 WHERE grantee_account_id = :V;
SET ROLE regress_copass_api;
SELECT grantee_account_id, status FROM copass.connection_list(:'shared') ORDER BY grantee_account_id;
SELECT set_config('copass.account_id', :V, false) IS NOT NULL AS as_viewer;
SELECT regress.try(format('SELECT copass.sandbox_get(%L)', :'shared'));
SELECT count(*) FROM copass.sandboxes;

-- by the clock, also within one long statement
SELECT set_config('copass.account_id', :O, false) IS NOT NULL AS as_owner;
SELECT role, status FROM copass.connection_grant(:'private', :E, 'editor', clock_timestamp() + interval '3 seconds');
SELECT set_config('copass.account_id', :E, false) IS NOT NULL AS as_editor;
SELECT name FROM copass.sandbox_get(:'private');
SELECT regress.try(format('SELECT copass.sandbox_update(%L, %L)', :'private', 'written after expiry'))
  FROM (SELECT pg_sleep(3.2)) AS wait;

-- a revoked grant likewise; the row stays for the owner
SELECT set_config('copass.account_id', :O, false) IS NOT NULL AS as_owner;
SELECT status, revoked_at IS NOT NULL AS revoked FROM copass.connection_revoke(:'shared', :E);
SELECT status FROM copass.connection_revoke(:'shared', :E);
SELECT grantee_account_id, status FROM copass.connection_list(:'shared', true) ORDER BY grantee_account_id;
SELECT count(*) FROM copass.connection_list(:'shared');
SELECT set_config('copass.account_id', :E, false) IS NOT NULL AS as_editor;
SELECT regress.try(format('SELECT copass.sandbox_update(%L, %L)', :'shared', 'after revoke'));
SELECT count(*) FROM copass.sandboxes;
-- re-granting makes it active again
SELECT set_config('copass.account_id', :O, false) IS NOT NULL AS as_owner;
SELECT role, status, revoked_at FROM copass.connection_grant(:'shared', :E, 'viewer');
SELECT set_config('copass.account_id', :E, false) IS NOT NULL AS as_editor;
SELECT name, access FROM copass.sandbox_get(:'shared');

-- delete: owner only; the connections go with the sandbox and the quota
-- count goes down
SELECT set_config('copass.account_id', :O, false) IS NOT NULL AS as_owner;
SELECT sandboxes FROM copass_data.account_usage WHERE tier = 'pro';
SELECT name, access FROM copass.sandbox_delete(:'shared');
SELECT sandboxes FROM copass_data.account_usage WHERE tier = 'pro';
SELECT count(*) FROM copass_data.connection WHERE sandbox_id = :'shared';
SELECT regress.try(format('SELECT copass.sandbox_delete(%L)', :'shared'));
SELECT regress.try(format('SELECT copass.connection_list(%L)', :'shared'));
SELECT set_config('copass.account_id', :E, false) IS NOT NULL AS as_editor;
SELECT count(*) FROM copass.sandboxes;
-- a name is free again once its sandbox is deleted
SELECT set_config('copass.account_id', :O, false) IS NOT NULL AS as_owner;
SELECT name FROM copass.sandbox_create('shared-renamed', :owner1, 'pro');
-- A page merges the owner's sandboxes the caller owns with those shared with
-- it, each source read in id order: E's own sandboxes for owner1 and O's
-- (the same owner_id in another account), created alternately so that ids
-- interleave; o3 is not shared.
SELECT set_config('copass.account_id', :E, false) IS NOT NULL AS as_editor;
SELECT sandbox_id AS e1 FROM copass.sandbox_create('page e1', :owner1) \gset
SELECT set_config('copass.account_id', :O, false) IS NOT NULL AS as_owner;
SELECT sandbox_id AS o1 FROM copass.sandbox_create('page o1', :owner1) \gset
SELECT set_config('copass.account_id', :E, false) IS NOT NULL AS as_editor;
SELECT sandbox_id AS e2 FROM copass.sandbox_create('page e2', :owner1) \gset
SELECT set_config('copass.account_id', :O, false) IS NOT NULL AS as_owner;
SELECT sandbox_id AS o2 FROM copass.sandbox_create('page o2', :owner1) \gset
SELECT sandbox_id AS o3 FROM copass.sandbox_create('page o3', :owner1) \gset
SELECT set_config('copass.account_id', :E, false) IS NOT NULL AS as_editor;
SELECT sandbox_id AS e3 FROM copass.sandbox_create('page e3', :owner1) \gset
SELECT set_config('copass.account_id', :O, false) IS NOT NULL AS as_owner;
SELECT role FROM copass.connection_grant(:'o1', :E, 'viewer');
SELECT role FROM copass.connection_grant(:'o2', :E, 'editor');
SELECT set_config('copass.account_id', :E, false) IS NOT NULL AS as_editor;
SELECT name, access, is_external FROM copass.sandbox_list_by_owner(:owner1) WHERE name LIKE 'page %';
SELECT name, access FROM copass.sandbox_list_by_owner(:owner1, include_connections => false) WHERE name LIKE 'page %';
-- walking pages of 1, 2, 3 and 100 gives the view's rows in id order, each once
SELECT size AS page_size,
       (WITH RECURSIVE walk(pages, last, ids) AS (
            SELECT 0, NULL::uuid, ARRAY[]::uuid[]
            UNION ALL
            SELECT w.pages + 1, p.ids[array_length(p.ids, 1)], w.ids || p.ids
              FROM walk w,
                   LATERAL (SELECT array_agg(l.sandbox_id ORDER BY l.sandbox_id) AS ids
                              FROM copass.sandbox_list_by_owner(:owner1, true, size, w.last) l) p
             WHERE p.ids IS NOT NULL)
        SELECT ids = (SELECT array_agg(sandbox_id ORDER BY sandbox_id) FROM copass.sandboxes WHERE owner_id = :owner1)
          FROM walk ORDER BY pages DESC LIMIT 1) AS same_as_view
  FROM unnest(ARRAY[1, 2, 3, 100]) AS size;
-- after an id in the middle, from either source
SELECT name FROM copass.sandbox_list_by_owner(:owner1, true, 2, :'o1') WHERE name LIKE 'page %';
SELECT name FROM copass.sandbox_list_by_owner(:owner1, true, 2, :'e2') WHERE name LIKE 'page %';

-- has_grant, which the sandbox policies ask about other accounts' rows:
-- only the caller's own active grants, at the level asked
SELECT needed,
       copass_data.has_grant(:O, :'o1', needed) AS o1_viewer,
       copass_data.has_grant(:O, :'o2', needed) AS o2_editor,
       copass_data.has_grant(:O, :'o3', needed) AS o3_none,
       copass_data.has_grant(:E, :'e1', needed) AS own_e1
  FROM unnest(enum_range(NULL::copass.access_level)) AS needed;
SELECT copass_data.has_grant(NULL, :'o1', 'viewer') AS null_account, copass_data.has_grant(:O, :'o1', NULL) AS null_level;
-- the account changing within one query: each row is answered for the
-- account of the moment
SELECT acct = :E AS as_e, set_config('copass.account_id', acct, false) IS NOT NULL AS set,
       copass_data.has_grant(:O, :'o1', 'viewer') AS o1_viewer
  FROM unnest(ARRAY[:E, :V, :S, :E]) WITH ORDINALITY AS a(acct, n) ORDER BY n;
RESET copass.account_id;
SELECT copass_data.has_grant(:O, :'o1', 'viewer') AS without_account;
-- a revoked grant is gone for has_grant and for the listing
SELECT set_config('copass.account_id', :O, false) IS NOT NULL AS as_owner;
SELECT status FROM copass.connection_revoke(:'o1', :E);
SELECT set_config('copass.account_id', :E, false) IS NOT NULL AS as_editor;
SELECT copass_data.has_grant(:O, :'o1', 'viewer') AS o1_after_revoke;
SELECT name, access FROM copass.sandbox_list_by_owner(:owner1) WHERE name LIKE 'page %';

-- has_grant looks every grant up when asked: a grant that expires during a
-- statement stops counting for the rest of it.  E holds editor grants on
-- "exp a" and "exp b" expiring in two seconds.  E's UPDATE of both, slowed by
-- pg_sleep after each row's policy check, writes "exp a" at 1.2 s and is
-- refused at "exp b", whose new row is checked at 2.4 s; a cursor opened
-- before the expiry reads no more of them afterwards.
SELECT set_config('copass.account_id', :O, false) IS NOT NULL AS as_owner;
SELECT count(*) FROM (SELECT copass.connection_grant(s.sandbox_id, :E, 'editor', clock_timestamp() + interval '2 seconds')
                        FROM (SELECT sandbox_id FROM copass.sandbox_create('exp a', :owner1)
                              UNION ALL SELECT sandbox_id FROM copass.sandbox_create('exp b', :owner1)) s) g;
SELECT set_config('copass.account_id', :E, false) IS NOT NULL AS as_editor;
BEGIN;
DECLARE late CURSOR FOR SELECT name FROM copass_data.sandbox WHERE name LIKE 'exp %';
FETCH 1 FROM late;
SAVEPOINT write;
UPDATE copass_data.sandbox SET metadata = '{"late": true}'
 WHERE name LIKE 'exp %' AND pg_sleep(CASE WHEN name LIKE 'exp %' THEN 1.2 END) IS NOT NULL;
ROLLBACK TO write;
FETCH ALL FROM late;
ROLLBACK;

-- in PL/pgSQL, whose expressions live as long as the transaction, each call
-- still answers for the moment: a revoke, and an operator's tier change
SELECT set_config('copass.account_id', :O, false) IS NOT NULL AS as_owner,
       set_config('regress.o1', :'o1', false) IS NOT NULL AS o1_noted;
SELECT role FROM copass.connection_grant(:'o1', :E, 'viewer');
BEGIN;
DO $$
DECLARE
    held boolean;
BEGIN
    FOR pass IN 1..2 LOOP
        PERFORM set_config('copass.account_id', '0e000000-0000-4000-8000-00000000000e', true);
        held := copass_data.has_grant('0a000000-0000-4000-8000-00000000000a',
                                      current_setting('regress.o1')::uuid, 'viewer');
        RAISE NOTICE 'pass %: has_grant %', pass, held;
        PERFORM set_config('copass.account_id', '0a000000-0000-4000-8000-00000000000a', true);
        IF pass = 1 THEN
            PERFORM copass.connection_revoke(current_setting('regress.o1')::uuid,
                                             '0e000000-0000-4000-8000-00000000000e');
        END IF;
    END LOOP;
END
$$;
COMMIT;
RESET ROLE;
BEGIN;
DO $$
DECLARE
    limits copass.limits;
BEGIN
    FOR pass IN 1..2 LOOP
        limits := copass.tier_limits('free');
        RAISE NOTICE 'pass %: free max_connections %', pass, limits.max_connections;
        UPDATE copass_data.tiers SET max_connections = 7 WHERE tier = 'free';
    END LOOP;
END
$$;
ROLLBACK;
SET ROLE regress_copass_api;
RESET copass.account_id;
RESET ROLE;
