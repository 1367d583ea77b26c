# Dump and restore (SPEC "Data safety"): every row of every copass_data table,
# the operator's edits to tiers included, comes back exactly once after
# pg_dump and restore, in plain format (through psql) and custom format
# (through pg_restore); the policies are the same, and the API still works for
# the API role afterwards, with exact quotas.
#
# Run as: pg_virtualenv -v 15 bash test/maintenance/dump_restore.sh
set -euo pipefail

SRC=copass_dr_src
PLAIN=copass_dr_plain
CUSTOM=copass_dr_custom
PRECREATED=copass_dr_precreated
OWNER=copass_dr_owner          # database owner side: not a superuser
API=copass_dr_api              # the role the API runs as
A=0a000000-0000-4000-8000-00000000000a
B=0b000000-0000-4000-8000-00000000000b
C=0c000000-0000-4000-8000-00000000000c
U1=00000000-0000-4000-8000-0000000000a1   # owner_ids (the accounts' end-users)
U2=00000000-0000-4000-8000-0000000000a2
U3=00000000-0000-4000-8000-0000000000b1

source "$(dirname "$0")/common.bash"
# api_try DB ACCOUNT SQL: like api, but a failure prints one line, "ERROR: <message>"
api_try() { local db=$1 acct=$2 out; shift 2
         if out=$(api "$db" "$acct" "$*" 2>&1); then echo "$out"
         else grep -m1 "ERROR" <<<"$out" | sed "s/^.*ERROR: */ERROR: /"; fi; }
# api_err DB ACCOUNT SQL: run as the API role, print the SQLSTATE it fails with
# (or "ok" when it succeeds)
api_err() { local db=$1 acct=$2 out; shift 2
         if out=$(psql -X -q -At -v ON_ERROR_STOP=1 -v VERBOSITY=sqlstate -d "$db" -c "SET ROLE $API" \
                       -c "SET copass.account_id = '$acct'" -c "$*" 2>&1 >/dev/null); then
             echo ok
         else
             sed -n 's/^.*ERROR: *\([0-9A-Z]\{5\}\).*$/\1/p' <<<"$out" | head -1
         fi; }
# usage_mismatch DB: account_usage rows that differ from the count of sandbox rows
usage_mismatch() {
    sql $1 "SELECT coalesce(u.account_id, s.account_id) || ' ' || coalesce(u.tier, s.tier)
                   || ' usage=' || coalesce(u.sandboxes::text, 'none') || ' rows=' || coalesce(s.n, 0)
              FROM copass_data.account_usage u
              FULL JOIN (SELECT account_id, tier, count(*) n FROM copass_data.sandbox GROUP BY 1, 2) s
                USING (account_id, tier)
             WHERE coalesce(u.sandboxes, 0) <> coalesce(s.n, 0)"
}

echo "copass dump/restore: setting up $SRC as a non-superuser database owner"
for db in $SRC $PLAIN $CUSTOM $PRECREATED; do sql postgres "DROP DATABASE IF EXISTS $db"; done
sql postgres "DROP ROLE IF EXISTS $API; DROP ROLE IF EXISTS $OWNER;
              CREATE ROLE $OWNER; CREATE ROLE $API;"
sql postgres "CREATE DATABASE $SRC"
sql $SRC "GRANT CREATE ON DATABASE $SRC TO $OWNER"
sql $SRC "SET ROLE $OWNER; CREATE EXTENSION copass; SELECT copass.grant_access('$API');" >/dev/null
same "installed by the owner role, trusted" "$CURRENT|$OWNER" \
     "$(sql $SRC "SELECT extversion, extowner::regrole FROM pg_extension WHERE extname = 'copass'")"

# --- data through the API ----------------------------------------------------
create() { # create DB ACCOUNT ARGS... -> sandbox_id
    local db=$1 acct=$2; shift 2
    api "$db" "$acct" "SELECT sandbox_id FROM copass.sandbox_create($*)"; }
A1=$(create $SRC $A "'alpha', '$U1'")
A2=$(create $SRC $A "'beta', '$U1', 'free', '{\"team\": \"data\", \"n\": [1, 2.5, null], \"nested\": {\"k\": \"v\"}}'")
A3=$(create $SRC $A "E'cafe\\u0301 ünïcödé', '$U1', 'free'")
A4=$(create $SRC $A "'gamma', '$U2', 'free'")
A5=$(create $SRC $A "'doomed', '$U2', 'free', '{\"delete\": true}'")
AP1=$(create $SRC $A "'pro one', '$U1', 'pro', '{\"plan\": \"pro\"}'")
AP2=$(create $SRC $A "'pro two', '$U2', 'pro'")
AE1=$(create $SRC $A "'lake', '$U1', 'enterprise', '{\"region\": \"eu\"}', 'custom_s3',
                       '{\"bucket\": \"acme-lake\", \"region\": \"eu-west-1\", \"prefix\": \"copass/a\", \"endpoint\": \"https://s3.example.com\"}'")
B1=$(create $SRC $B "'alpha', '$U3'")
B2=$(create $SRC $B "'bravo', '$U3', 'pro', '{\"x\": 1}'")
C1=$(create $SRC $C "'charlie', '$U1', 'enterprise'")
# connections: active, revoked, expired (and one that goes with its sandbox)
api $SRC $A "SELECT copass.connection_grant('$A1', '$B', 'editor', label => 'their team')" >/dev/null
api $SRC $A "SELECT copass.connection_grant('$A1', '$C', 'viewer', now() + interval '30 days')" >/dev/null
api $SRC $A "SELECT copass.connection_revoke('$A1', '$C')" >/dev/null
api $SRC $A "SELECT copass.connection_grant('$AP1', '$B', 'viewer', now() + interval '1 day', 'soon expired')" >/dev/null
api $SRC $A "SELECT copass.connection_grant('$AP1', '$C', 'editor')" >/dev/null
api $SRC $A "SELECT copass.connection_grant('$A5', '$B', 'viewer')" >/dev/null
api $SRC $B "SELECT copass.connection_grant('$B2', '$A', 'viewer')" >/dev/null
sql $SRC "UPDATE copass_data.connection SET expires_at = now() - interval '1 hour'
           WHERE sandbox_id = '$AP1' AND grantee_account_id = '$B'"
# lifecycle: update, status, delete
api $SRC $A "SELECT copass.sandbox_update('$A4', 'gamma renamed', '{\"renamed\": true}')" >/dev/null
api $SRC $A "SELECT copass.sandbox_set_status('$AP2', 'suspended')" >/dev/null
api $SRC $A "SELECT copass.sandbox_delete('$A5')" >/dev/null
# the operator's edits, as the extension's owner
sql $SRC "SET ROLE $OWNER;
          UPDATE copass_data.tiers SET max_connections = 7, max_projects = 42 WHERE tier = 'pro';
          UPDATE copass_data.tiers SET max_sandboxes = 5 WHERE tier = 'free';"
echo "  accounts A, B, C: 11 sandboxes created (free, pro, enterprise with custom_s3), 1 deleted,"
echo "  6 connections (active, revoked, expired; 1 removed with its sandbox), tiers edited (pro, free)"

same "source: free tier edited" "5" "$(sql $SRC "SELECT max_sandboxes FROM copass_data.tiers WHERE tier = 'free'")"
same "source: connection statuses" "active,active,active,expired,revoked" \
     "$(sql $SRC "SELECT string_agg(st, ',' ORDER BY st) FROM (SELECT copass_data.connection_status(revoked_at, expires_at) st
                    FROM copass_data.connection) c")"
same "source: account_usage equals the sandbox count per account and tier" "" "$(usage_mismatch $SRC)"

# --- snapshots -----------------------------------------------------------------
# Each table in full, as the superuser (row-level security does not apply), in
# primary-key order; a duplicated or missing row shows up as a line.
snapshot() { # snapshot DB OUTFILE
    local db=$1 out=$2
    psql -X -q -At -v ON_ERROR_STOP=1 -d "$db" >"$out" <<'EOF'
SET TimeZone = 'UTC';
SET extra_float_digits = 3;
\echo -- tiers
SELECT t FROM copass_data.tiers t ORDER BY tier;
\echo -- sandbox
SELECT s FROM copass_data.sandbox s ORDER BY account_id, sandbox_id;
\echo -- account_usage
SELECT u FROM copass_data.account_usage u ORDER BY account_id, tier;
\echo -- connection
SELECT c FROM copass_data.connection c ORDER BY account_id, sandbox_id, grantee_account_id;
\echo -- counts and distinct keys
SELECT 'tiers', count(*), count(DISTINCT tier) FROM copass_data.tiers;
SELECT 'sandbox', count(*), count(DISTINCT (account_id, sandbox_id)) FROM copass_data.sandbox;
SELECT 'account_usage', count(*), count(DISTINCT (account_id, tier)) FROM copass_data.account_usage;
SELECT 'connection', count(*), count(DISTINCT (account_id, sandbox_id, grantee_account_id)) FROM copass_data.connection;
\echo -- extension config tables
SELECT extconfig::regclass[]::text FROM pg_extension WHERE extname = 'copass';
EOF
}
policies() { # policies DB OUTFILE
    psql -X -q -At -v ON_ERROR_STOP=1 -d "$1" >"$2" -c "
        SELECT schemaname, tablename, policyname, permissive, roles, cmd, qual, with_check
          FROM pg_policies WHERE schemaname IN ('copass', 'copass_data') ORDER BY 1, 2, 3" -c "
        SELECT c.oid::regclass, c.relrowsecurity, c.relforcerowsecurity
          FROM pg_class c WHERE c.relnamespace = 'copass_data'::regnamespace AND c.relkind = 'r'
         ORDER BY 1"
}
snapshot $SRC "$WORK/src.data"
policies $SRC "$WORK/src.policies"
privileges $SRC $API >"$WORK/src.privileges"
privileges $SRC $OWNER >"$WORK/src.owner_privileges"
api $SRC $A "SELECT sandbox_id, name, access, is_external FROM copass.sandbox_list_by_owner('$U1')" >"$WORK/src.list_a"
api $SRC $B "SELECT sandbox_id, name, access, is_external FROM copass.sandbox_list_by_owner('$U1')" >"$WORK/src.list_b"

# --- dump ----------------------------------------------------------------------
pg_dump -Fp -f "$WORK/plain.sql" $SRC
pg_dump -Fc -f "$WORK/custom.dump" $SRC
echo "dumped $SRC: plain $(wc -c <"$WORK/plain.sql") bytes, custom $(wc -c <"$WORK/custom.dump") bytes;"
echo "  the dump holds $(grep -c "^SET SESSION AUTHORIZATION $OWNER;" "$WORK/plain.sql" || true) GRANTs run as SET SESSION AUTHORIZATION $OWNER"
echo "  (copass.grant_access('$API') ran as $OWNER; $OWNER's own grant options are initial privileges, not dumped)"

# --- restore and check ---------------------------------------------------------
# Restores run as the superuser (a non-superuser cannot restore these tables:
# pg_dump sets row_security = off, and COPY into a table with forced row-level
# security then fails for any role without BYPASSRLS).
for db in $PLAIN $CUSTOM $PRECREATED; do
    echo
    sql postgres "CREATE DATABASE $db"
    sql $db "GRANT CREATE ON DATABASE $db TO $OWNER"
    case $db in
    $PLAIN)
        echo "restore 1: plain dump into a fresh $db with psql, as the superuser"
        psql -X -q -d $db -f "$WORK/plain.sql" >"$WORK/restore.out" 2>&1 && rc=0 || rc=$? ;;
    $CUSTOM)
        echo "restore 2: custom dump into a fresh $db with pg_restore, as the superuser"
        pg_restore -d $db "$WORK/custom.dump" >"$WORK/restore.out" 2>&1 && rc=0 || rc=$? ;;
    $PRECREATED)
        echo "restore 3: plain dump with psql, as the superuser, into $db where $OWNER first ran"
        echo "           CREATE EXTENSION copass, so that the dump's CREATE EXTENSION IF NOT EXISTS is a no-op"
        echo "           (a workaround: the owner keeps its grant options and the dumped grants apply)"
        sql $db "SET ROLE $OWNER; CREATE EXTENSION copass"
        psql -X -q -d $db -f "$WORK/plain.sql" >"$WORK/restore.out" 2>&1 && rc=0 || rc=$? ;;
    esac
    echo "  extension owner after restore: $(sql $db "SELECT extowner::regrole FROM pg_extension WHERE extname = 'copass'")"
    if [ $rc -eq 0 ] && ! grep -q 'ERROR' "$WORK/restore.out"; then
        ok "restore ran without errors"
    else
        bad "restore reported errors (exit $rc): $(grep -c ERROR "$WORK/restore.out") ERROR lines, e.g."
        grep -A2 -m3 ERROR "$WORK/restore.out" | sed 's/^/       /'
    fi

    snapshot $db "$WORK/$db.data"
    same_text "every row of tiers, sandbox, account_usage, connection exactly once" "$WORK/src.data" "$WORK/$db.data"
    same "tiers: 3 rows, operator edits kept" \
         "3|free:5|pro:7/42" \
         "$(sql $db "SELECT count(*) || '|' || string_agg(CASE tier WHEN 'free' THEN 'free:' || max_sandboxes
                                                          WHEN 'pro' THEN 'pro:' || max_connections || '/' || max_projects END, '|' ORDER BY tier)
                      FROM copass_data.tiers")"
    policies $db "$WORK/$db.policies"
    same_text "policies and row-level security flags identical" "$WORK/src.policies" "$WORK/$db.policies"
    privileges $db $API >"$WORK/$db.privileges"
    same_set "the API role's privileges on copass objects are the same" "$WORK/src.privileges" "$WORK/$db.privileges"
    privileges $db $OWNER >"$WORK/$db.owner_privileges"
    if diff -q "$WORK/src.owner_privileges" "$WORK/$db.owner_privileges" >/dev/null; then
        echo "  info the owner role's privileges are unchanged"
    else
        echo "  info the owner role $OWNER now holds $(wc -l <"$WORK/$db.owner_privileges") of its $(wc -l <"$WORK/src.owner_privileges") privileges on copass objects"
    fi

    same "account_usage equals the sandbox count per account and tier" "" "$(usage_mismatch $db)"
    # The API, as the API role, on the restored data.
    if [ "$(api_err $db $A "SELECT copass.current_account_id()")" != ok ]; then
        bad "API: the API role cannot use the API at all: $(api_try $db $A "SELECT copass.current_account_id()")"
        echo "       (12 API checks skipped)"
        continue
    fi
    api_try $db $A "SELECT sandbox_id, name, access, is_external FROM copass.sandbox_list_by_owner('$U1')" \
        >"$WORK/$db.list_a"
    same_text "API: A's listing of owner U1 unchanged" "$WORK/src.list_a" "$WORK/$db.list_a"
    api_try $db $B "SELECT sandbox_id, name, access, is_external FROM copass.sandbox_list_by_owner('$U1')" \
        >"$WORK/$db.list_b"
    same_text "API: B's view of A's shared sandboxes unchanged (editor yes, expired no)" "$WORK/src.list_b" "$WORK/$db.list_b"
    same "API: get the custom_s3 sandbox" \
         "lake|enterprise|custom_s3|acme-lake|owner" \
         "$(api_try $db $A "SELECT name, tier, storage_provider_type, storage_config->>'bucket', access
                          FROM copass.sandbox_get('$AE1')")"
    same "API: deleted sandbox stays gone (PT404)" "PT404" "$(api_err $db $A "SELECT copass.sandbox_get('$A5')")"
    same "API: connection_list with revoked" "$B:editor:active,$C:viewer:revoked" \
         "$(api_try $db $A "SELECT string_agg(grantee_account_id || ':' || role || ':' || status, ',' ORDER BY grantee_account_id)
                          FROM copass.connection_list('$A1', true)")"
    # free quota is 5; A has 4 free sandboxes left (5 made, 1 deleted): one more fits
    same "API: create a 5th free sandbox for A (quota edit 5 kept)" "ok" \
         "$(api_err $db $A "SELECT copass.sandbox_create('after restore', '$U2')")"
    same "API: a 6th free sandbox is PT402" "PT402" \
         "$(api_err $db $A "SELECT copass.sandbox_create('one too many', '$U2')")"
    same "account_usage still equals the sandbox count per account and tier" "" "$(usage_mismatch $db)"
    same "API: grant after restore" "active" \
         "$(api_try $db $A "SELECT status FROM copass.connection_grant('$AP2', '$B', 'viewer')")"
    same "API: 6 more grants on a pro sandbox (7 = the edited max_connections)" "6" \
         "$(api_try $db $A "SELECT count(*) FROM generate_series(1, 6) g,
                 LATERAL copass.connection_grant('$AP2', ('1a000000-0000-4000-8000-00000000000' || g)::uuid, 'viewer')")"
    same "API: the 8th grant is PT402" "PT402" \
         "$(api_err $db $A "SELECT copass.connection_grant('$AP2', '1a000000-0000-4000-8000-000000000008', 'viewer')")"
    same "API: B sees the new grant" "pro two|viewer|t" \
         "$(api_try $db $B "SELECT name, access, is_external FROM copass.sandbox_get('$AP2')")"
    same "API: C still cannot see A's private sandbox (PT404)" "PT404" \
         "$(api_err $db $C "SELECT copass.sandbox_get('$A2')")"
done

echo
if [ $FAILURES -eq 0 ]; then
    echo "dump_restore: all checks passed"
else
    echo "dump_restore: $FAILURES check(s) FAILED"
    exit 1
fi
