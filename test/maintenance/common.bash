# Shared by the maintenance suites: result reporting and psql helpers.
# Each suite sets API (the API role) before calling api.
export PGOPTIONS="-c client_min_messages=warning"
WORK=$(mktemp -d)
# COPASS_KEEP=dir: copy the dumps and snapshots there before cleaning up
trap '[ -z "${COPASS_KEEP:-}" ] || { mkdir -p "$COPASS_KEEP"; cp -r "$WORK"/. "$COPASS_KEEP"/; }; rm -rf "$WORK"' EXIT
FAILURES=0

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
