# Crash recovery: concurrent clients create sandboxes as the API role; after
# about 2.5 s the whole server is killed with SIGKILL (the postmaster, then the
# backends it had), and restarted, so the database goes through crash
# recovery.  Then: every sandbox a client saw created is there (a client sees
# the result only after the commit, synchronous_commit is on), no row is
# half-written, account_usage equals the rows, no quota was exceeded, the
# indexes agree with the table (amcheck), and the API works.
#
# pg_virtualenv clusters run with fsync = off: this is a crash of the server
# processes, not of the machine.
#
# Run as: pg_virtualenv -v 15 bash test/maintenance/crash.sh
set -euo pipefail

DB=copass_crash
OWNER=copass_crash_owner
API=copass_crash_api
A=0a000000-0000-4000-8000-00000000000a
B=0b000000-0000-4000-8000-00000000000b
FREE_MAX=150                 # free max_sandboxes for the run: the load hits PT402
CLIENTS_PER_ACCOUNT=3
CREATES_PER_CLIENT=20000     # far more than fit in the time before the kill
LOAD_SECONDS=2.5

export PGOPTIONS="-c client_min_messages=warning"
WORK=$(mktemp -d)
CLIENT_PIDS=()
cleanup() {
    local pid
    for pid in "${CLIENT_PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
    # COPASS_KEEP=dir: copy the client scripts, logs and checks there first
    [ -z "${COPASS_KEEP:-}" ] || { mkdir -p "$COPASS_KEEP"; cp -r "$WORK"/. "$COPASS_KEEP"/; }
    rm -rf "$WORK"
}
trap cleanup EXIT
FAILURES=0

ok()   { echo "  ok   $*"; }
bad()  { echo "  FAIL $*"; FAILURES=$((FAILURES + 1)); }
sql()  { local db=$1; shift; psql -X -q -At -v ON_ERROR_STOP=1 -d "$db" -c "$*"; }
api()  { local acct=$1; shift
         psql -X -q -At -v ON_ERROR_STOP=1 -d $DB -c "SET ROLE $API" -c "SET copass.account_id = '$acct'" -c "$*"; }
# api_err ACCOUNT SQL: "ok", or the SQLSTATE the statement fails with
api_err() { local acct=$1 out; shift
         if out=$(psql -X -q -At -v ON_ERROR_STOP=1 -v VERBOSITY=sqlstate -d $DB -c "SET ROLE $API" \
                       -c "SET copass.account_id = '$acct'" -c "$*" 2>&1 >/dev/null); then echo ok
         else sed -n 's/^ERROR: *\([0-9A-Z]\{5\}\).*/\1/p' <<<"$out" | head -1; fi; }
same() { if [ "$2" == "$3" ]; then ok "$1"; else
             bad "$1"; echo "       expected: $2"; echo "       actual:   $3"; fi; }

echo "copass crash recovery: $((2 * CLIENTS_PER_ACCOUNT)) clients creating sandboxes, SIGKILL after ${LOAD_SECONDS}s"
sql postgres "DROP DATABASE IF EXISTS $DB"
sql postgres "DROP ROLE IF EXISTS $API; DROP ROLE IF EXISTS $OWNER; CREATE ROLE $OWNER; CREATE ROLE $API"
sql postgres "CREATE DATABASE $DB"
sql $DB "GRANT CREATE ON DATABASE $DB TO $OWNER; CREATE EXTENSION amcheck"
psql -X -q -At -v ON_ERROR_STOP=1 -d $DB -c "SET ROLE $OWNER" -c "CREATE EXTENSION copass" \
     -c "SELECT copass.grant_access('$API')" \
     -c "UPDATE copass_data.tiers SET max_sandboxes = $FREE_MAX WHERE tier = 'free'" >/dev/null
same "synchronous_commit is on" "on" "$(sql $DB "SHOW synchronous_commit")"

DATADIR=$(sql postgres "SHOW data_directory")
PORT=$(sql postgres "SHOW port")
CLUSTER=$(pg_lsclusters -h | while read -r ver name port _; do
              [ "$ver" == 15 ] && [ "$port" == "$PORT" ] && echo "$name"; done)
[ -n "$CLUSTER" ] || { echo "cannot find the cluster on port $PORT in pg_lsclusters"; exit 1; }
echo "  cluster 15/$CLUSTER, data directory $DATADIR"

# --- the load ----------------------------------------------------------------
# Each client is one psql session, in autocommit, as the API role; each create
# prints its sandbox_id (-At) as soon as it returns, that is after its commit.
# A statement in five uses a name shared by the account's clients, so some
# creates race for the same (owner_id, name) and get 23505; half are free-tier,
# so the account's free quota fills up and later free creates get PT402.
client_script() { # client_script ACCOUNT CLIENT
    local acct=$1 c=$2
    echo '\set VERBOSITY sqlstate'
    echo "SET ROLE $API;"
    echo "SET copass.account_id = '$acct';"
    perl -e '
        my ($c, $n) = @ARGV;
        for my $i (1 .. $n) {
            my $tier = $i % 2 ? "free" : ($i % 10 == 0 ? "enterprise" : "pro");
            my $name = $i % 5 == 0 ? "shared-$i" : "c$c-$i";
            my $owner = sprintf "00000000-0000-4000-8000-%012d", $i % 3 + 1;
            my $meta = qq({"client": $c, "i": $i});
            print "SELECT sandbox_id FROM copass.sandbox_create(\x27$name\x27, \x27$owner\x27, \x27$tier\x27, \x27$meta\x27);\n";
        }' "$c" "$CREATES_PER_CLIENT"
}
c=0
for acct in $A $B; do
    for _ in $(seq $CLIENTS_PER_ACCOUNT); do
        c=$((c + 1))
        client_script $acct $c >"$WORK/client$c.sql"
        psql -X -q -At -d $DB -f "$WORK/client$c.sql" >"$WORK/client$c.ids" 2>"$WORK/client$c.err" &
        CLIENT_PIDS+=($!)
    done
done
sleep $LOAD_SECONDS

# --- the crash ------------------------------------------------------------------
LOG=$(pg_lsclusters -h | while read -r ver name _ _ _ _ log; do
          [ "$ver" == 15 ] && [ "$name" == "$CLUSTER" ] && echo "$log"; done)
LOG_OFFSET=$( [ -r "$LOG" ] && wc -c <"$LOG" || echo 0)
PM=$(head -1 "$DATADIR/postmaster.pid")
CHILDREN=$(for f in /proc/[0-9]*/stat; do
               read -r pid _ _ ppid _ <"$f" 2>/dev/null || continue
               [ "$ppid" == "$PM" ] && echo "$pid"; done || true)
kill -KILL "$PM"
for pid in $CHILDREN; do kill -KILL "$pid" 2>/dev/null || true; done
echo "  killed the postmaster (pid $PM) and its $(echo $CHILDREN | wc -w) children with SIGKILL"

# The clients lose their connections and exit; give them a few seconds.
for pid in "${CLIENT_PIDS[@]}"; do
    for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    if kill -0 "$pid" 2>/dev/null; then bad "client $pid still running 10 s after the crash"; kill "$pid" || true; fi
    wait "$pid" 2>/dev/null || true
done
CLIENT_PIDS=()

cat "$WORK"/client*.ids >"$WORK/seen"
SEEN=$(wc -l <"$WORK/seen")
N402=$(cat "$WORK"/client*.err | grep -c 'ERROR: *PT402' || true)
N23505=$(cat "$WORK"/client*.err | grep -c 'ERROR: *23505' || true)
OTHER=$(cat "$WORK"/client*.err | grep 'ERROR' | grep -v 'ERROR: *PT402\|ERROR: *23505' | sort | uniq -c || true)
echo "  clients saw $SEEN creates committed, $N402 PT402 (quota), $N23505 23505 (duplicate name) before the crash"
[ -z "$OTHER" ] || { echo "  other errors the clients saw:"; echo "$OTHER" | sed 's/^/       /'; }
same "every client was cut off mid-run by the crash (connection to server was lost)" "$c" \
     "$(grep -l 'connection to server was lost' "$WORK"/client*.err | wc -l)"
[ "$SEEN" -gt 100 ] && ok "the load ran (more than 100 creates before the crash)" || bad "the load ran: only $SEEN creates"
[ "$N402" -gt 0 ] && ok "the load hit the free quota (PT402)" || bad "the load never hit the free quota"
same "every line a client printed is a sandbox_id" "0" \
     "$(grep -cvE '^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$' "$WORK/seen" || true)"

# --- restart ---------------------------------------------------------------------
started=
for _ in $(seq 40); do
    if pg_ctlcluster 15 "$CLUSTER" start >"$WORK/start.out" 2>&1; then started=1; break; fi
    sleep 0.5
done
if [ -z "$started" ]; then cat "$WORK/start.out"; echo "could not restart 15/$CLUSTER"; exit 1; fi
for _ in $(seq 100); do sql postgres "SELECT 1" >/dev/null 2>&1 && break; sleep 0.1; done
ok "restarted 15/$CLUSTER with pg_ctlcluster"
[ -r "$LOG" ] && tail -c +$((LOG_OFFSET + 1)) "$LOG" >"$WORK/server.log" || : >"$WORK/server.log"
if grep -q 'not properly shut down; automatic recovery in progress' "$WORK/server.log"; then
    ok "the server went through crash recovery ($(grep -m1 -o 'redo done at [0-9A-F/]*' "$WORK/server.log" || echo 'see log'))"
else
    bad "no crash recovery in the server log $LOG"
fi

# --- checks --------------------------------------------------------------------------
# As the superuser, so row-level security hides nothing.
psql -X -q -At -v ON_ERROR_STOP=1 -d $DB >"$WORK/checks" 2>&1 <<EOF || bad "the check queries failed: $(grep -m1 ERROR "$WORK/checks")"
CREATE TEMP TABLE seen (sandbox_id uuid);
\copy seen FROM '$WORK/seen'
SELECT 'seen_missing', count(*) FROM seen s
 WHERE NOT EXISTS (SELECT FROM copass_data.sandbox x WHERE x.sandbox_id = s.sandbox_id);
SELECT 'seen_twice', count(*) - count(DISTINCT sandbox_id) FROM seen;
SELECT 'id_twice', count(*) - count(DISTINCT sandbox_id) FROM copass_data.sandbox;
SELECT 'half_written', count(*) FROM copass_data.sandbox
 WHERE account_id IS NULL OR sandbox_id IS NULL OR owner_id IS NULL OR name IS NULL OR tier IS NULL
    OR status IS NULL OR storage_provider_type IS NULL OR metadata IS NULL OR created_at IS NULL
    OR updated_at IS NULL OR account_id NOT IN ('$A', '$B') OR status <> 'active'
    OR storage_provider_type <> 'platform_s3' OR storage_config IS NOT NULL
    OR metadata->>'client' IS NULL OR created_at > now() OR updated_at <> created_at
    OR substr(sandbox_id::text, 15, 1) <> '7';
SELECT 'usage_mismatch', count(*) FROM copass_data.account_usage u
  FULL JOIN (SELECT account_id, tier, count(*) n FROM copass_data.sandbox GROUP BY 1, 2) s USING (account_id, tier)
 WHERE coalesce(u.sandboxes, 0) <> coalesce(s.n, 0);
SELECT 'over_quota', count(*) FROM (SELECT account_id, tier, count(*) n FROM copass_data.sandbox GROUP BY 1, 2) s
  JOIN copass_data.tiers t USING (tier) WHERE s.n > t.max_sandboxes;
SELECT 'duplicate_name', count(*) FROM (SELECT FROM copass_data.sandbox GROUP BY account_id, owner_id, name HAVING count(*) > 1) d;
SELECT 'rows', count(*) FROM copass_data.sandbox;
SELECT 'per_account_tier', string_agg(account_id || ':' || tier || '=' || n, ' ' ORDER BY account_id, tier)
  FROM (SELECT account_id, tier, count(*) n FROM copass_data.sandbox GROUP BY 1, 2) s;
SELECT 'free_counts', string_agg(n::text, ',' ORDER BY account_id)
  FROM (SELECT account_id, count(*) n FROM copass_data.sandbox WHERE tier = 'free' GROUP BY 1) s;
EOF
val() { sed -n "s/^$1|//p" "$WORK/checks"; }
echo "  after recovery: $(val rows) sandbox rows; $(val per_account_tier | sed "s/$A/A/g; s/$B/B/g")"
same "every sandbox_id a client saw returned is there" "0" "$(val seen_missing)"
same "no sandbox_id was returned twice" "0" "$(val seen_twice)"
same "no sandbox row twice" "0" "$(val id_twice)"
same "no half-written rows (all columns set, as the API wrote them)" "0" "$(val half_written)"
same "account_usage equals the rows per account and tier" "0" "$(val usage_mismatch)"
same "no quota exceeded" "0" "$(val over_quota)"
same "free quota filled exactly ($FREE_MAX per account, both hit PT402)" "$FREE_MAX,$FREE_MAX" "$(val free_counts)"
same "(account, owner_id, name) still unique" "0" "$(val duplicate_name)"
# amcheck: every B-tree index of the copass_data tables, with a heap check
# (every row is in the index) and the parent/child invariants.
INDEXES=$(sql $DB "SELECT string_agg(indexrelid::regclass::text, ' ' ORDER BY 1) FROM pg_index
                    WHERE indrelid IN (SELECT oid FROM pg_class WHERE relnamespace = 'copass_data'::regnamespace)")
same "amcheck: the indexes agree with their rows ($(echo $INDEXES | wc -w) indexes)" "" \
     "$(for idx in $INDEXES; do
            sql $DB "SELECT bt_index_parent_check('$idx'::regclass, true)" >/dev/null 2>"$WORK/amcheck" ||
                echo "$idx: $(grep -m1 ERROR "$WORK/amcheck")"
        done)"

# --- the API after the restart -----------------------------------------------------------
id=$(api $A "SELECT sandbox_id FROM copass.sandbox_create('after crash', '00000000-0000-4000-8000-000000000001', 'pro')" 2>&1 || true)
same "API: create after the restart" "after crash|pro|owner" \
     "$(api $A "SELECT name, tier, access FROM copass.sandbox_get('$id')" 2>&1 || true)"
same "API: the free quota still holds (PT402)" "PT402" \
     "$(api_err $B "SELECT copass.sandbox_create('one more free', '00000000-0000-4000-8000-000000000001')")"
first=$(head -1 "$WORK/client1.ids")
same "API: a sandbox created before the crash, by get" "$first" \
     "$(api $A "SELECT sandbox_id FROM copass.sandbox_get('$first')" 2>&1 || true)"
# keyset pagination through sandbox_list_by_owner, 1000 at a time
OWNER2=00000000-0000-4000-8000-000000000002
after=NULL; listed=0
while :; do
    api $A "SELECT sandbox_id FROM copass.sandbox_list_by_owner('$OWNER2', page_size => 1000, after_id => $after)" \
        >"$WORK/page" 2>&1 || { cat "$WORK/page"; break; }
    n=$(wc -l <"$WORK/page"); [ "$n" -gt 0 ] || break
    listed=$((listed + n)); after="'$(tail -1 "$WORK/page")'"
done
same "API: keyset pages of sandbox_list_by_owner list all of A's sandboxes of one owner" \
     "$(sql $DB "SELECT count(*) FROM copass_data.sandbox WHERE account_id = '$A' AND owner_id = '$OWNER2'")" "$listed"
same "API: B cannot see A's sandbox (PT404)" "PT404" "$(api_err $B "SELECT copass.sandbox_get('$first')")"
same "API: a duplicate name is still refused (23505)" "23505" \
     "$(api_err $A "SELECT copass.sandbox_create('after crash', '00000000-0000-4000-8000-000000000001', 'pro')")"

echo
if [ $FAILURES -eq 0 ]; then
    echo "crash: all checks passed"
else
    echo "crash: $FAILURES check(s) FAILED"
    exit 1
fi
