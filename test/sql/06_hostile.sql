-- A hostile caller puts its own schema and pg_temp first in search_path,
-- with look-alike functions, operators, types and tables.  copass qualifies
-- every name it uses, so none of them runs and no tenant boundary moves.
\set VERBOSITY terse
CREATE SCHEMA evil AUTHORIZATION regress_copass_api;
SELECT sandbox_id AS c_sandbox FROM copass_data.sandbox
 WHERE account_id = 'cccccccc-cccc-4ccc-8ccc-cccccccccccc' ORDER BY sandbox_id LIMIT 1 \gset
SET ROLE regress_copass_api;

CREATE TABLE evil.calls (what text);
CREATE FUNCTION evil.log_true(a anyelement, b anyelement) RETURNS boolean
    LANGUAGE sql AS $$ INSERT INTO evil.calls VALUES ('operator'); SELECT true $$;
CREATE OPERATOR evil.= (LEFTARG = uuid, RIGHTARG = uuid, FUNCTION = evil.log_true);
CREATE OPERATOR evil.= (LEFTARG = text, RIGHTARG = text, FUNCTION = evil.log_true);
CREATE OPERATOR evil.> (LEFTARG = uuid, RIGHTARG = uuid, FUNCTION = evil.log_true);
CREATE OPERATOR evil.>= (LEFTARG = copass.access_level, RIGHTARG = copass.access_level, FUNCTION = evil.log_true);
CREATE OPERATOR evil.<= (LEFTARG = timestamptz, RIGHTARG = timestamptz, FUNCTION = evil.log_true);
CREATE FUNCTION evil.now() RETURNS timestamptz
    LANGUAGE sql AS $$ INSERT INTO evil.calls VALUES ('now'); SELECT 'infinity'::timestamptz $$;
CREATE FUNCTION evil.statement_timestamp() RETURNS timestamptz
    LANGUAGE sql AS $$ INSERT INTO evil.calls VALUES ('statement_timestamp'); SELECT '-infinity'::timestamptz $$;
CREATE FUNCTION evil.current_account_id() RETURNS uuid
    LANGUAGE sql AS $$ INSERT INTO evil.calls VALUES ('current_account_id'); SELECT 'cccccccc-cccc-4ccc-8ccc-cccccccccccc'::uuid $$;
CREATE FUNCTION evil.count(anyelement) RETURNS bigint
    LANGUAGE sql AS $$ INSERT INTO evil.calls VALUES ('count'); SELECT 0::bigint $$;
CREATE DOMAIN evil.uuid AS text;
CREATE DOMAIN evil.jsonb AS text;
CREATE TABLE evil.sandboxes (sandbox_id uuid);
CREATE TEMP TABLE sandbox (account_id uuid);
CREATE TEMP TABLE tiers (tier text);
CREATE TEMP VIEW sandboxes AS SELECT 1 AS x;

SET search_path = pg_temp, evil, pg_catalog, copass, copass_data;
SET copass.account_id = 'dddddddd-dddd-4ddd-8ddd-dddddddddddd';

-- every API function, with the trap set
SELECT name, access FROM copass.sandbox_create('hostile', '00000000-0000-4000-8000-0000000000d9');
SELECT sandbox_id AS hostile FROM copass.sandboxes WHERE name OPERATOR(pg_catalog.=) 'hostile' \gset
SELECT count(*) OPERATOR(pg_catalog.=) 1 AS one_listed FROM copass.sandbox_list_by_owner('00000000-0000-4000-8000-0000000000d9');
SELECT name FROM copass.sandbox_list_by_owner('00000000-0000-4000-8000-0000000000c1');
SELECT name FROM copass.sandbox_get(:'hostile');
SELECT name FROM copass.sandbox_update(:'hostile', 'hostile-2', '{"a": 1}');
SELECT status FROM copass.sandbox_set_status(:'hostile', 'archived');
SELECT role, status FROM copass.connection_grant(:'hostile', 'cccccccc-cccc-4ccc-8ccc-cccccccccccc', 'viewer');
SELECT grantee_account_id, status FROM copass.connection_list(:'hostile');
SELECT status FROM copass.connection_revoke(:'hostile', 'cccccccc-cccc-4ccc-8ccc-cccccccccccc');
SELECT (copass.tier_limits('free')).max_sandboxes;
SELECT name FROM copass.sandbox_delete(:'hostile');
-- account C's sandboxes stay invisible, whatever "=" means here
SELECT regress.try(format('SELECT copass.sandbox_get(%L)', :'c_sandbox'));
SELECT regress.try(format('SELECT copass.sandbox_update(%L, %L)', :'c_sandbox', 'x'));
SELECT account_id, pg_catalog.count(*) FROM copass_data.sandbox GROUP BY account_id;
SELECT account_id, pg_catalog.count(*) FROM copass.sandboxes GROUP BY account_id;

-- none of the look-alikes ever ran
SELECT what, pg_catalog.count(*) FROM evil.calls GROUP BY what;

RESET search_path;
RESET copass.account_id;
RESET ROLE;
DROP SCHEMA evil CASCADE;
