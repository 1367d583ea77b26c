# Shared by the maintenance suites: result reporting and psql helpers.
# Each suite sets API (the API role) before calling api.
export PGOPTIONS="-c client_min_messages=warning"
WORK=$(mktemp -d)
# COPASS_KEEP=dir: copy the dumps and snapshots there before cleaning up
trap '[ -z "${COPASS_KEEP:-}" ] || { mkdir -p "$COPASS_KEEP"; cp -r "$WORK"/. "$COPASS_KEEP"/; }; rm -rf "$WORK"' EXIT
FAILURES=0

# the version CREATE EXTENSION copass installs
CURRENT=$(sed -n "s/^default_version = '\\(.*\\)'$/\\1/p" "$(dirname "${BASH_SOURCE[0]}")/../../copass.control")

ok()   { echo "  ok   $*"; }
bad()  { echo "  FAIL $*"; FAILURES=$((FAILURES + 1)); }
# sql DB SQL...: run as the superuser, unaligned, tuples only; stops on error
sql()  { local db=$1; shift; psql -X -q -At -v ON_ERROR_STOP=1 -d "$db" -c "$*"; }
# api DB ACCOUNT SQL: run as the API role with copass.account_id set
api()  { local db=$1 acct=$2; shift 2
         psql -X -q -At -v ON_ERROR_STOP=1 -d "$db" -c "SET ROLE $API" \
              -c "SET copass.account_id = '$acct'" -c "$*"; }
same() { if [ "$2" == "$3" ]; then ok "$1"; else
             bad "$1"; echo "       expected: $2"; echo "       actual:   $3"; fi; }
# same_text LABEL FILE1 FILE2: identical files, else print the diff
same_text() { if diff -u "$2" "$3" >"$WORK/diff"; then ok "$1"; else
                  bad "$1"; sed 's/^/       /' "$WORK/diff" | head -60; fi; }

# same_set LABEL FILE1 FILE2: the same lines; else say which are missing or extra
same_set() { if cmp -s "$2" "$3"; then ok "$1"; return; fi
             grep -Fxv -f "$3" "$2" >"$WORK/missing" || true
             grep -Fxv -f "$2" "$3" >"$WORK/extra" || true
             bad "$1: $(wc -l <"$WORK/missing") of $(wc -l <"$2") missing, $(wc -l <"$WORK/extra") extra"
             head -8 "$WORK/missing" | sed 's/^/       missing: /'
             head -8 "$WORK/extra" | sed 's/^/       extra:   /'; }
# Every privilege a role holds on the extension's objects, one per line, sorted.
privileges() { # privileges DB ROLE
    psql -X -q -At -v ON_ERROR_STOP=1 -d "$1" <<EOF
SELECT * FROM (
SELECT 'schema ' || n.nspname || ' ' || m AS p
  FROM pg_namespace n, unnest(ARRAY['USAGE', 'CREATE', 'USAGE WITH GRANT OPTION']) m
 WHERE n.nspname IN ('copass', 'copass_data') AND has_schema_privilege('$2', n.oid, m)
UNION ALL
SELECT 'function ' || p.oid::regprocedure || ' ' || m
  FROM pg_proc p, unnest(ARRAY['EXECUTE', 'EXECUTE WITH GRANT OPTION']) m
 WHERE p.pronamespace IN ('copass'::regnamespace, 'copass_data'::regnamespace)
   AND has_function_privilege('$2', p.oid, m)
UNION ALL
SELECT 'table ' || c.oid::regclass || ' ' || m
  FROM pg_class c, unnest(ARRAY['SELECT', 'INSERT', 'UPDATE', 'DELETE', 'TRUNCATE', 'REFERENCES', 'TRIGGER',
                                'SELECT WITH GRANT OPTION', 'UPDATE WITH GRANT OPTION']) m
 WHERE c.relnamespace IN ('copass'::regnamespace, 'copass_data'::regnamespace) AND c.relkind IN ('r', 'v')
   AND has_table_privilege('$2', c.oid, m)
UNION ALL
SELECT 'column ' || c.oid::regclass || '.' || a.attname || ' ' || m
  FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped,
       unnest(ARRAY['SELECT', 'INSERT', 'UPDATE']) m
 WHERE c.relnamespace = 'copass_data'::regnamespace AND c.relkind = 'r'
   AND has_column_privilege('$2', c.oid, a.attnum, m)
UNION ALL
SELECT 'type ' || t.oid::regtype || ' USAGE'
  FROM pg_type t
 WHERE t.typnamespace = 'copass'::regnamespace AND t.typtype IN ('e', 'c')
   AND (t.typrelid = 0 OR (SELECT relkind FROM pg_class WHERE oid = t.typrelid) = 'c')
   AND has_type_privilege('$2', t.oid, 'USAGE')
) x ORDER BY p COLLATE "C";
EOF
}
