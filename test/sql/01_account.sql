-- copass.current_account_id(): who is calling, from copass.account_id and the
-- claim named by copass.account_claim in request.jwt.claims.
\set VERBOSITY terse
SET ROLE regress_copass_api;

-- nothing set: no account
SELECT copass.current_account_id() IS NULL AS none;

-- copass.account_id, in every spelling uuid_in accepts
SET copass.account_id = 'aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa';
SELECT copass.current_account_id();
SET copass.account_id = 'AAAAAAAA-AAAA-4AAA-8AAA-AAAAAAAAAAAA';
SELECT copass.current_account_id();
SET copass.account_id = '{aaaaaaaaaaaa4aaa8aaaaaaaaaaaaaaa}';
SELECT copass.current_account_id();
SET copass.account_id = 'aaaa-aaaa-aaaa-4aaa-8aaa-aaaa-aaaa-aaaa';
SELECT copass.current_account_id();
-- not a UUID, or empty: no account (never an error)
SET copass.account_id = '';
SELECT copass.current_account_id() IS NULL AS none;
SET copass.account_id = 'aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaa';
SELECT copass.current_account_id() IS NULL AS none;
SET copass.account_id = 'aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaaa';
SELECT copass.current_account_id() IS NULL AS none;
SET copass.account_id = '{aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa';
SELECT copass.current_account_id() IS NULL AS none;
SET copass.account_id = 'aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa}';
SELECT copass.current_account_id() IS NULL AS none;
SET copass.account_id = 'aaaaaaaa--aaaa-4aaa-8aaa-aaaaaaaaaaaa';
SELECT copass.current_account_id() IS NULL AS none;
SET copass.account_id = 'aaaaaaa-aaaaa-4aaa-8aaa-aaaaaaaaaaaa';
SELECT copass.current_account_id() IS NULL AS none;
SET copass.account_id = ' aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa';
SELECT copass.current_account_id() IS NULL AS none;
SET copass.account_id = 'gaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa';
SELECT copass.current_account_id() IS NULL AS none;
RESET copass.account_id;

-- claims: the account_id claim, any UUID spelling
SELECT set_config('request.jwt.claims', '{"role":"x","account_id":"bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb"}', false) IS NOT NULL AS set;
SELECT copass.current_account_id();
SELECT set_config('request.jwt.claims', '{"account_id":"{BBBBBBBBBBBB4BBB8BBBBBBBBBBBBBBB}"}', false) IS NOT NULL AS set;
SELECT copass.current_account_id();
-- nested values before and after the claim, escapes in the claim's string
SELECT set_config('request.jwt.claims', '{"a":[1,{"b":[true,null,-1.5e3]}],"account_id":"bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbb\u0062","c":{}}', false) IS NOT NULL AS set;
SELECT copass.current_account_id();
-- a nested account_id is not the claim
SELECT set_config('request.jwt.claims', '{"x":{"account_id":"bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb"}}', false) IS NOT NULL AS set;
SELECT copass.current_account_id() IS NULL AS none;
-- a repeated key: the last one counts, as in jsonb
SELECT set_config('request.jwt.claims', '{"account_id":"bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb","account_id":"cccccccc-cccc-4ccc-8ccc-cccccccccccc"}', false) IS NOT NULL AS set;
SELECT copass.current_account_id();
SELECT set_config('request.jwt.claims', '{"account_id":"bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb","account_id":7}', false) IS NOT NULL AS set;
SELECT copass.current_account_id() IS NULL AS none;

-- everything that is not an object with a UUID string claim means no account
-- (each after a valid claim, so a stale parse would show)
SELECT claims, v.before, w.after
  FROM (VALUES (''), (' '), ('null'), ('[]'), ('"bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb"'),
               ('{}'), ('{"account_id":null}'), ('{"account_id":42}'), ('{"account_id":true}'),
               ('{"account_id":["bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb"]}'),
               ('{"account_id":{"id":"bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb"}}'),
               ('{"account_id":"not-a-uuid"}'), ('{"account_id":""}'),
               ('{"account_id":"bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb"'),
               ('{"account_id":"bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb"}}'),
               ('{"account_id":"bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb"} x'),
               ('{"account_id":"bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb",}'),
               ('{"account_id" "bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb"}'),
               ('{account_id:"bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb"}'),
               ('{"account_id":"bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb\u0000"}'),
               ('{"sub":"bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb"}')) AS c(claims),
       LATERAL (SELECT set_config('request.jwt.claims', '{"account_id":"bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb"}', false),
                       copass.current_account_id() AS before) AS v,
       LATERAL (SELECT set_config('request.jwt.claims', c.claims, false),
                       copass.current_account_id() AS after) AS w;

-- deeply nested claims parse without recursion: valid, then invalid
SELECT set_config('request.jwt.claims', '{"deep":' || repeat('[', 200000) || repeat(']', 200000)
       || ',"account_id":"bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb"}', false) IS NOT NULL AS set;
SELECT copass.current_account_id();
SELECT set_config('request.jwt.claims', '{"deep":' || repeat('[', 200000)
       || ',"account_id":"bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb"}', false) IS NOT NULL AS set;
SELECT copass.current_account_id() IS NULL AS none;

-- copass.account_claim names the claim
SELECT set_config('request.jwt.claims', '{"sub":"cccccccc-cccc-4ccc-8ccc-cccccccccccc","account_id":"bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb"}', false) IS NOT NULL AS set;
SET copass.account_claim = 'sub';
SELECT copass.current_account_id();
RESET copass.account_claim;
SELECT copass.current_account_id();

-- both settings: the same account in two spellings is fine, two accounts are refused
SET copass.account_id = 'BBBBBBBB-BBBB-4BBB-8BBB-BBBBBBBBBBBB';
SELECT copass.current_account_id();
SET copass.account_id = 'cccccccc-cccc-4ccc-8ccc-cccccccccccc';
SELECT regress.try($$SELECT copass.current_account_id()$$);
-- an invalid one of the two does not count
SET copass.account_id = 'nonsense';
SELECT copass.current_account_id();
RESET copass.account_id;
SELECT set_config('request.jwt.claims', '', false) IS NOT NULL AS set;

-- a value set earlier in the same transaction never outlives its change
BEGIN;
SELECT set_config('request.jwt.claims', '{"account_id":"bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb"}', true) IS NOT NULL AS set;
SELECT copass.current_account_id();
SELECT set_config('request.jwt.claims', '{"account_id":"cccccccc-cccc-4ccc-8ccc-cccccccccccc"}', true) IS NOT NULL AS set;
SELECT copass.current_account_id();
SELECT set_config('request.jwt.claims', '{"account_id":"oops"}', true) IS NOT NULL AS set;
SELECT copass.current_account_id() IS NULL AS none;
COMMIT;
-- nor a value from an earlier transaction
SELECT copass.current_account_id() IS NULL AS none;

-- settings the extension does not define are refused under its prefix
SELECT regress.try($$SET copass.acount_id = 'x'$$);
RESET ROLE;

-- in a database that is not UTF8, \u escapes in the claims are no error
\set regress_db :DBNAME
CREATE DATABASE regress_copass_latin1 ENCODING 'LATIN1' LC_COLLATE 'C' LC_CTYPE 'C' TEMPLATE template0;
\c regress_copass_latin1
CREATE EXTENSION copass;
SELECT set_config('request.jwt.claims', '{"name":"caf\u00e9 \ud83d\ude00","account_id":"bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb"}', false) IS NOT NULL AS set;
SELECT copass.current_account_id();
SELECT set_config('request.jwt.claims', '{"account_id":"bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbb\u00e9"}', false) IS NOT NULL AS set;
SELECT copass.current_account_id() IS NULL AS none;
\c :regress_db
DROP DATABASE regress_copass_latin1;
