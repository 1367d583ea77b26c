-- DROP and CREATE EXTENSION in one backend: plans the C code kept for the old
-- objects are prepared again for the new ones.
\set VERBOSITY terse
\set regress_db :DBNAME
CREATE DATABASE regress_copass_reinstall;
\c regress_copass_reinstall
CREATE ROLE regress_copass_reinstall_api;
CREATE EXTENSION copass;
SELECT copass.grant_access('regress_copass_reinstall_api');
SET ROLE regress_copass_reinstall_api;
SET copass.account_id = 'aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa';
SELECT name FROM copass.sandbox_create('before', '00000000-0000-4000-8000-000000000001');
SELECT name FROM copass.sandbox_list_by_owner('00000000-0000-4000-8000-000000000001');
RESET ROLE;
DROP EXTENSION copass;
CREATE EXTENSION copass;
SELECT copass.grant_access('regress_copass_reinstall_api');
SET ROLE regress_copass_reinstall_api;
SELECT name FROM copass.sandbox_list_by_owner('00000000-0000-4000-8000-000000000001');
SELECT name, tier FROM copass.sandbox_create('after', '00000000-0000-4000-8000-000000000001', 'pro');
SELECT name, access FROM copass.sandbox_list_by_owner('00000000-0000-4000-8000-000000000001');
SELECT status FROM copass.connection_grant(
    (SELECT sandbox_id FROM copass.sandboxes WHERE name = 'after'), 'bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb', 'viewer');
RESET ROLE;
\c :regress_db
DROP DATABASE regress_copass_reinstall;
DROP ROLE regress_copass_reinstall_api;
