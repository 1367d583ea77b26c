# Extension update (SPEC "Data safety"): ALTER EXTENSION copass UPDATE from
# 0.1.0 to the current version (through every upgrade script), run by the non-superuser role that installed it, keeps data,
# grants and dependent objects; an API role that had the 0.1.0 API can use the
# newer functions once grant_access runs again; and the upgraded database has the same schema as a
# fresh CREATE EXTENSION copass set up the same way (pg_dump -s, and
# pg_dump -s --binary-upgrade, which also shows the extension's own objects and
# their initial privileges; only what differs by nature is normalized: the
# random \restrict key, and in binary-upgrade mode OIDs, XIDs and LSNs).
# Differences are printed and fail the test.
#
# Run as: pg_virtualenv -v 15 bash test/maintenance/upgrade.sh
set -euo pipefail

OLD=copass_up_old              # installed at 0.1.0, then updated
MID=copass_up_mid              # installed at 0.2.0, then updated
FRESH=copass_up_fresh          # CREATE EXTENSION copass ($CURRENT)
OWNER=copass_up_owner          # database owner side: not a superuser
API=copass_up_api              # the role the API runs as
REPORTER=copass_up_reporter    # a role with one extra grant, and a user view
A=0a000000-0000-4000-8000-00000000000a
B=0b000000-0000-4000-8000-00000000000b
U1=00000000-0000-4000-8000-0000000000a1
U2=00000000-0000-4000-8000-0000000000b1

source "$(dirname "$0")/common.bash"
# as ROLE DB SQL...: run each SQL in turn in one session, as ROLE (SET ROLE)
as()   { local role=$1 db=$2 args=() s; shift 2
         for s in "$@"; do args+=(-c "$s"); done
         psql -X -q -At -v ON_ERROR_STOP=1 -d "$db" -c "SET ROLE $role" "${args[@]}"; }
# try CMD...: the command's output, or its first ERROR line
try()  { local out
         if out=$("$@" 2>&1); then echo "$out"
         else grep -m1 "ERROR" <<<"$out" | sed "s/^.*ERROR: */ERROR: /"; fi; }
# setup DB [VERSION]: install copass as the owner role and set it up the same
# way in both databases: the API role, the reporter's extra grant, a user view.
setup() {
    local db=$1 version=${2:+ VERSION \'$2\'}
    sql postgres "CREATE DATABASE $db"
    sql $db "GRANT CREATE ON DATABASE $db TO $OWNER; GRANT CREATE ON SCHEMA public TO $OWNER"
    as $OWNER $db "CREATE EXTENSION copass$version" \
                  "SELECT copass.grant_access('$API')" \
                  "SELECT copass.grant_access('$OWNER')" >/dev/null
    sql $db "GRANT SELECT ON copass.sandboxes TO $REPORTER"
    as $OWNER $db "CREATE VIEW public.my_view AS SELECT name FROM copass.sandboxes" \
                  "GRANT SELECT ON public.my_view TO $REPORTER" >/dev/null
}

echo "copass upgrade: 0.1.0 installed by a non-superuser owner, updated to $CURRENT"
for db in $OLD $FRESH; do sql postgres "DROP DATABASE IF EXISTS $db"; done
sql postgres "DROP ROLE IF EXISTS $API; DROP ROLE IF EXISTS $REPORTER; DROP ROLE IF EXISTS $OWNER;
              CREATE ROLE $OWNER; CREATE ROLE $API; CREATE ROLE $REPORTER;"
setup $OLD 0.1.0
same "0.1.0 installed by the owner role" "0.1.0|$OWNER" \
     "$(sql $OLD "SELECT extversion, extowner::regrole FROM pg_extension WHERE extname = 'copass'")"

# --- data through the 0.1.0 API --------------------------------------------------
create() { local acct=$1; shift; api $OLD $acct "SELECT sandbox_id FROM copass.sandbox_create($*)"; }
A1=$(create $A "'alpha', '$U1'")
A2=$(create $A "'beta', '$U1', 'pro', '{\"team\": \"data\"}'")
A3=$(create $A "'lake', '$U1', 'enterprise', '{}', 'custom_s3', '{\"bucket\": \"acme-lake\", \"region\": \"eu-west-1\"}'")
A4=$(create $A "'gamma', '$U1', 'free', '{\"n\": [1, 2]}'")
B1=$(create $B "'alpha', '$U2'")
B2=$(create $B "'bravo', '$U2', 'pro'")
sql $OLD "SET ROLE $OWNER; UPDATE copass_data.tiers SET max_sandboxes = 3 WHERE tier = 'free'"
echo "  6 sandboxes for accounts A and B through the 0.1.0 API; free max_sandboxes edited to 3"

snapshot() { # snapshot DB OUTFILE: the 0.1.0 tables in full, in key order
    psql -X -q -At -v ON_ERROR_STOP=1 -d "$1" >"$2" -c "SET TimeZone = 'UTC'" \
         -c "SELECT t FROM copass_data.tiers t ORDER BY tier" \
         -c "SELECT s FROM copass_data.sandbox s ORDER BY account_id, sandbox_id" \
         -c "SELECT u FROM copass_data.account_usage u ORDER BY account_id, tier"
}
LIST="SELECT sandbox_id, name, tier, storage_provider_type, storage_config, metadata, limits
        FROM copass.sandbox_list_by_owner('$U1', include_connections => false)"
snapshot $OLD "$WORK/before.data"
api $OLD $A "$LIST" >"$WORK/before.list"
as $OWNER $OLD "SET copass.account_id = '$A'" "SELECT name FROM public.my_view ORDER BY 1" >"$WORK/before.view"

# --- the update ----------------------------------------------------------------------
if out=$(as $OWNER $OLD "ALTER EXTENSION copass UPDATE" 2>&1); then
    ok "ALTER EXTENSION copass UPDATE as the owner role"
else
    bad "ALTER EXTENSION copass UPDATE as the owner role"; echo "$out" | sed 's/^/       /'
fi
same "each step of the update names the roles that need copass.grant_access again" \
     "WARNING:  copass 0.2.0 adds sharing: run copass.grant_access again for $API, $OWNER
WARNING:  copass 0.3.0 checks grants in copass_data.has_grant: run copass.grant_access again for $API, $OWNER" \
     "$(grep WARNING <<<"$out")"
same "version is $CURRENT, owner unchanged" "$CURRENT|$OWNER" \
     "$(sql $OLD "SELECT extversion, extowner::regrole FROM pg_extension WHERE extname = 'copass'")"

# --- until then the API role is refused cleanly; then grant_access again --------------
same "API before grant_access again: the listing is refused with 42501" \
     "ERROR: permission denied for view grants_to_me" \
     "$(try api $OLD $A "SELECT count(*) FROM copass.sandbox_list_by_owner('$U1')")"
as $OWNER $OLD "SELECT copass.grant_access('$API')" "SELECT copass.grant_access('$OWNER')" >/dev/null

# --- data -------------------------------------------------------------------------------
snapshot $OLD "$WORK/after.data"
same_text "data intact: every row of tiers, sandbox, account_usage" "$WORK/before.data" "$WORK/after.data"
same "connection table is new and empty" "0" "$(sql $OLD "SELECT count(*) FROM copass_data.connection")"
try api $OLD $A "$LIST" >"$WORK/after.list"
same_text "API: the legacy owner-only listing is unchanged" "$WORK/before.list" "$WORK/after.list"

# --- the API role uses the 0.2.0 API --------------------------------------------------
same "API: sandbox_list_by_owner with connections (access owner)" "alpha:owner,beta:owner,gamma:owner,lake:owner" \
     "$(try api $OLD $A "SELECT string_agg(name || ':' || access, ',' ORDER BY name) FROM copass.sandbox_list_by_owner('$U1')")"
same "API: sandbox_update (0.2.0)" "alpha 2|{\"v\": 2}" \
     "$(try api $OLD $A "SELECT name, metadata FROM copass.sandbox_update('$A1', 'alpha 2', '{\"v\": 2}')")"
same "API: sandbox_set_status (0.2.0)" "archived" \
     "$(try api $OLD $A "SELECT status FROM copass.sandbox_set_status('$A4', 'archived')")"
same "API: connection_grant (0.2.0)" "editor|active" \
     "$(try api $OLD $A "SELECT role, status FROM copass.connection_grant('$A2', '$B', 'editor')")"
same "API: the grantee sees it through the view (0.2.0)" "beta|editor|t" \
     "$(try api $OLD $B "SELECT name, access, is_external FROM copass.sandboxes WHERE sandbox_id = '$A2'")"
same "API: the grantee edits it" "beta by B" \
     "$(try api $OLD $B "SELECT name FROM copass.sandbox_update('$A2', 'beta by B')")"
same "API: connection_revoke (0.2.0)" "revoked" \
     "$(try api $OLD $A "SELECT status FROM copass.connection_revoke('$A2', '$B')")"
same "API: connection_list (0.2.0)" "$B:editor:revoked" \
     "$(try api $OLD $A "SELECT string_agg(grantee_account_id || ':' || role || ':' || status, ',')
                           FROM copass.connection_list('$A2', true)")"
same "API: the grantee lost access at once (PT404)" "PT404" \
     "$(psql -X -q -At -v VERBOSITY=sqlstate -d $OLD -c "SET ROLE $API" -c "SET copass.account_id = '$B'" \
            -c "SELECT copass.sandbox_get('$A2')" 2>&1 | sed -n 's/^ERROR: *\([0-9A-Z]\{5\}\).*/\1/p')"
same "API: sandbox_delete (0.2.0)" "bravo" \
     "$(try api $OLD $B "SELECT name FROM copass.sandbox_delete('$B2')")"
same "API: create within the edited free quota (3rd free sandbox)" "ok" \
     "$(try api $OLD $A "SELECT 'ok' FROM copass.sandbox_create('delta', '$U1')")"
same "API: the 4th free sandbox is PT402" "PT402" \
     "$(psql -X -q -At -v VERBOSITY=sqlstate -d $OLD -c "SET ROLE $API" -c "SET copass.account_id = '$A'" \
            -c "SELECT copass.sandbox_create('epsilon', '$U1')" 2>&1 | sed -n 's/^ERROR: *\([0-9A-Z]\{5\}\).*/\1/p')"

# --- grants and dependent objects ---------------------------------------------------------
same "reporter's extra grant survives (SELECT on copass.sandboxes)" "t" \
     "$(sql $OLD "SELECT has_table_privilege('$REPORTER', 'copass.sandboxes', 'SELECT')")"
same "user view public.my_view survives, still on copass.sandboxes" "copass.sandboxes" \
     "$(sql $OLD "SELECT string_agg(DISTINCT refobjid::regclass::text, ',')
                    FROM pg_depend WHERE objid = (SELECT oid FROM pg_rewrite WHERE ev_class = 'public.my_view'::regclass)
                     AND refobjid <> 'public.my_view'::regclass AND classid = 'pg_rewrite'::regclass")"
as $OWNER $OLD "SET copass.account_id = '$A'" "SELECT name FROM public.my_view ORDER BY 1" >"$WORK/after.view" 2>&1 || true
same "user view works, as its owner (A's sandboxes: as before, renamed, one more)" \
     "$( { sed 's/^alpha$/alpha 2/; s/^beta$/beta by B/' "$WORK/before.view"; echo delta; } | sort)" \
     "$(sort "$WORK/after.view")"
same "the reporter's grant on the user view survives" "t" \
     "$(sql $OLD "SELECT has_table_privilege('$REPORTER', 'public.my_view', 'SELECT')")"

# --- the upgraded schema equals a fresh install set up the same way -----------------
setup $FRESH
same "fresh install is $CURRENT" "$CURRENT|$OWNER" \
     "$(sql $FRESH "SELECT extversion, extowner::regrole FROM pg_extension WHERE extname = 'copass'")"

for role in $API $OWNER $REPORTER; do
    privileges $FRESH $role >"$WORK/fresh.priv.$role"
    privileges $OLD $role >"$WORK/old.priv.$role"
    same_set "$role: the same privileges on copass objects as in a fresh install" "$WORK/fresh.priv.$role" "$WORK/old.priv.$role"
done

# Privileges that the extension's scripts record in pg_init_privs are the
# extension's own: pg_dump leaves them out, assuming CREATE EXTENSION will make
# them again.  Only the owner's (and PUBLIC's) should be there.
init_privs() { # init_privs DB: pg_init_privs entries of copass objects naming other roles
    sql $1 "SELECT DISTINCT a.grantee::regrole || ' ' || a.privilege_type
              FROM pg_init_privs i, aclexplode(i.initprivs) a
              JOIN pg_depend d ON true
             WHERE d.classid = i.classoid AND d.objid = i.objoid AND d.deptype = 'e'
               AND d.refobjid = (SELECT oid FROM pg_extension WHERE extname = 'copass')
               AND a.grantee NOT IN (0, '$OWNER'::regrole, (SELECT nspowner FROM pg_namespace WHERE nspname = 'copass'))
             ORDER BY 1"
}
same "pg_init_privs name no role but the owner (fresh install)" "" "$(init_privs $FRESH | tr '\n' ' ')"
same "pg_init_privs name no role but the owner (upgraded)" "" "$(init_privs $OLD | tr '\n' ' ')"

# pg_dump -s: what a dump of the database carries besides the rows: the
# extension, the privileges that differ from its initial ones, user objects.
# Only the random key of psql's \restrict lines is normalized.
# show_diff A B: the changed lines of a unified diff, no context, comments or blank lines
show_diff() { diff -u "$1" "$2" | grep '^[-+]' | grep -v '^\(---\|+++\) ' | grep -v '^[-+]\(--.*\)\?$' >"$WORK/changed" || true
              sed -n '1,40s/^/       /p' "$WORK/changed"
              [ "$(wc -l <"$WORK/changed")" -le 40 ] ||
                  echo "       ... $(($(wc -l <"$WORK/changed") - 40)) more changed lines (COPASS_KEEP=dir keeps the dumps)"; }
dump_same() { # dump_same LABEL A B
    if cmp -s "$2" "$3"; then ok "$1"; else bad "$1 (- fresh, + upgraded)"; show_diff "$2" "$3"; fi; }
unrestrict() { sed -E 's/^\\(un)?restrict .*/\\\1restrict KEY/' "$1"; }
pg_dump -s $FRESH | unrestrict /dev/stdin >"$WORK/fresh.schema"
pg_dump -s $OLD | unrestrict /dev/stdin >"$WORK/old.schema"
dump_same "pg_dump -s: upgraded database = fresh database" "$WORK/fresh.schema" "$WORK/old.schema"
same "a dump of the upgraded database carries the API role's grants" \
     "$(grep -c "TO $API;" "$WORK/fresh.schema")" "$(grep -c "TO $API;" "$WORK/old.schema" || true)"
same "a dump of the upgraded database carries the reporter's grants" \
     "$(grep -c "TO $REPORTER;" "$WORK/fresh.schema")" "$(grep -c "TO $REPORTER;" "$WORK/old.schema" || true)"

# pg_dump -s --binary-upgrade also writes every object of the extension and
# its initial privileges, as pg_upgrade would carry them over.  The physical
# identifiers it pins (OIDs, relfrozenxid/relminmxid, attribute LSNs) differ
# by nature and are normalized.
normalize() { unrestrict "$1" | sed -E "s/'[0-9]+'::pg_catalog\.oid/'OID'::pg_catalog.oid/g;
                      s/('\{)[0-9,]+(\}')/\1OIDS\2/g;
                      s/'\{[0-9A-F\/,]+\}'::pg_catalog\.pg_lsn\[\]/'LSNS'::pg_catalog.pg_lsn[]/g;
                      s/relfrozenxid = '[0-9]+', relminmxid = '[0-9]+'/relfrozenxid = 'XID', relminmxid = 'MXID'/;
                      s/WHERE oid = '[0-9]+'/WHERE oid = 'OID'/"; }
pg_dump -s --binary-upgrade -f "$WORK/fresh.bu" $FRESH
pg_dump -s --binary-upgrade -f "$WORK/old.bu" $OLD
normalize "$WORK/fresh.bu" >"$WORK/fresh.bu.n"
normalize "$WORK/old.bu" >"$WORK/old.bu.n"
dump_same "pg_dump -s --binary-upgrade: upgraded database = fresh database" "$WORK/fresh.bu.n" "$WORK/old.bu.n"
same "pg_dump -s --binary-upgrade: the extension's own objects are the same (ACL lines aside)" "" \
     "$(diff <(grep -v 'GRANT\|REVOKE\|SESSION AUTHORIZATION\|record_init_privs' "$WORK/fresh.bu.n") \
             <(grep -v 'GRANT\|REVOKE\|SESSION AUTHORIZATION\|record_init_privs' "$WORK/old.bu.n") | grep '^[<>]' | head -20)"

# What the differences mean, as the API role and the owner would meet them.
same "upgraded: the API role cannot change a sandbox's tier around the API and its quota (UPDATE copass_data.sandbox SET tier)" "42501" \
     "$(psql -X -q -At -v VERBOSITY=sqlstate -d $OLD -c "SET ROLE $API" -c "SET copass.account_id = '$A'" -c "BEGIN" \
             -c "UPDATE copass_data.sandbox SET tier = 'enterprise' WHERE sandbox_id = '$A1' RETURNING 'tier changed to ' || tier" \
             -c "ROLLBACK" 2>&1 | sed -n 's/^ERROR: *\([0-9A-Z]\{5\}\).*/\1/p; /^tier changed/p')"
for db in $FRESH $OLD; do
    as $OWNER $db "SELECT copass.revoke_access('$API')" >/dev/null
    same "the owner can take access away from the API role again with copass.revoke_access ($db)" "f" \
         "$(sql $db "SELECT has_function_privilege('$API', 'copass.sandbox_create(text, uuid, copass.tier, jsonb, copass.storage_provider, jsonb)', 'EXECUTE')")"
done

# --- from 0.2.0 in use: refused cleanly until grant_access runs again, then all works --
echo
echo "copass upgrade: 0.2.0 in use (API role, a shared sandbox), updated to $CURRENT"
sql postgres "DROP DATABASE IF EXISTS $MID"
setup $MID 0.2.0
M1=$(api $MID $A "SELECT sandbox_id FROM copass.sandbox_create('mid', '$U1')")
api $MID $A "SELECT copass.connection_grant('$M1', '$B', 'editor')" >/dev/null
if out=$(as $OWNER $MID "ALTER EXTENSION copass UPDATE" 2>&1); then
    ok "ALTER EXTENSION copass UPDATE from 0.2.0 as the owner role"
else
    bad "ALTER EXTENSION copass UPDATE from 0.2.0 as the owner role"; echo "$out" | sed 's/^/       /'
fi
same "the update names the roles that need copass.grant_access again" \
     "WARNING:  copass 0.3.0 checks grants in copass_data.has_grant: run copass.grant_access again for $API, $OWNER" \
     "$(grep WARNING <<<"$out")"
same "API before grant_access again: a read is refused with 42501, no rows" \
     "ERROR: permission denied for function has_grant" \
     "$(try api $MID $A "SELECT count(*) FROM copass.sandbox_list_by_owner('$U1')")"
as $OWNER $MID "SELECT copass.grant_access('$API')" "SELECT copass.grant_access('$OWNER')" >/dev/null
same "API after grant_access: the owner lists" "mid:owner" \
     "$(try api $MID $A "SELECT string_agg(name || ':' || access, ',') FROM copass.sandbox_list_by_owner('$U1')")"
same "API after grant_access: the grantee reads the shared sandbox" "mid:editor:true" \
     "$(try api $MID $B "SELECT name || ':' || access || ':' || is_external FROM copass.sandbox_get('$M1')")"
same "API after grant_access: the grantee edits it" "mid 2" \
     "$(try api $MID $B "SELECT name FROM copass.sandbox_update('$M1', 'mid 2')")"
same "API after grant_access: the owner creates" "ok" \
     "$(try api $MID $A "SELECT 'ok' FROM copass.sandbox_create('mid b', '$U1')")"
privileges $MID $API >"$WORK/mid.priv.$API"
same_set "$API: the same privileges on copass objects as in a fresh install" "$WORK/fresh.priv.$API" "$WORK/mid.priv.$API"
pg_dump -s $MID | unrestrict /dev/stdin >"$WORK/mid.schema"
dump_same "pg_dump -s: updated from 0.2.0 = fresh database" "$WORK/fresh.schema" "$WORK/mid.schema"

echo
if [ $FAILURES -eq 0 ]; then
    echo "upgrade: all checks passed"
else
    echo "upgrade: $FAILURES check(s) FAILED"
    exit 1
fi
