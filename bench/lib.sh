# bench/lib.sh: the throwaway cluster, sourced by bench/run.
#
# start_cluster makes $BENCH_TMP (a fresh directory under /tmp), runs initdb
# there as user postgres when we are root (as ourselves otherwise), and
# starts a postmaster that listens only on a Unix socket in that directory,
# on a port no other server uses.  stop_cluster stops it; cleanup (on exit)
# stops it and removes the directory unless BENCH_KEEP=1.

PGBIN=${PGBIN:-/usr/lib/postgresql/15/bin}

as_pg() {
    if [ "$(id -u)" = 0 ]; then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

free_port() {
    local port=55432
    while ss -Htln "sport = :$port" 2>/dev/null | grep -q . ||
          [ -e "/tmp/.s.PGSQL.$port" ] || [ -e "/var/run/postgresql/.s.PGSQL.$port" ]; do
        port=$((port + 1))
    done
    echo "$port"
}

start_cluster() {
    BENCH_TMP=$(mktemp -d /tmp/copass-bench.XXXXXX)
    [ "$(id -u)" = 0 ] && chown postgres: "$BENCH_TMP"
    PGDATA_DIR=$BENCH_TMP/data
    BENCH_PORT=$(free_port)
    as_pg "$PGBIN/initdb" -D "$PGDATA_DIR" -U postgres --auth=trust -E UTF8 --locale=C \
        >"$BENCH_TMP/initdb.log" 2>&1 || { cat "$BENCH_TMP/initdb.log" >&2; return 1; }
    # Sized for this 2-core, 24 GiB machine.  fsync stays on, so the
    # synchronous_commit=on phases pay for a real WAL flush per commit.
    as_pg tee -a "$PGDATA_DIR/postgresql.conf" >/dev/null <<EOF
# --- copass bench ---
listen_addresses = ''
unix_socket_directories = '$BENCH_TMP'
port = $BENCH_PORT
max_connections = 40
shared_buffers = ${BENCH_SHARED_BUFFERS:-6GB}
huge_pages = off
effective_cache_size = 16GB
work_mem = 16MB
maintenance_work_mem = 1GB
max_parallel_maintenance_workers = 2
wal_level = minimal
max_wal_senders = 0
max_wal_size = 30GB
min_wal_size = 2GB
checkpoint_timeout = 1h
random_page_cost = 1.1
jit = off
synchronous_commit = on
log_min_messages = warning
log_checkpoints = off
EOF
    as_pg "$PGBIN/pg_ctl" -D "$PGDATA_DIR" -l "$BENCH_TMP/postgres.log" -w -t 120 start >/dev/null
    export PGHOST=$BENCH_TMP PGPORT=$BENCH_PORT PGUSER=postgres PGDATABASE=bench
}

restart_cluster() {
    as_pg "$PGBIN/pg_ctl" -D "$PGDATA_DIR" -l "$BENCH_TMP/postgres.log" -w -t 120 start >/dev/null
}

stop_cluster() {
    [ -n "${PGDATA_DIR:-}" ] && [ -f "$PGDATA_DIR/postmaster.pid" ] &&
        as_pg "$PGBIN/pg_ctl" -D "$PGDATA_DIR" -m fast -w -t 300 stop >/dev/null
    return 0
}

cleanup() {
    stop_cluster || true
    if [ -n "${BENCH_TMP:-}" ] && [ "${BENCH_KEEP:-0}" != 1 ]; then
        rm -rf "$BENCH_TMP"
    fi
}
