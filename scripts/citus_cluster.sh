#!/usr/bin/env bash
# A local Citus cluster for taskapi's `citus` tests: a coordinator and two workers on
# 127.0.0.1, from the Citus binaries installed for PostgreSQL 15. Building or installing
# Citus is the operator's business (it is not in Debian's archive; its source builds against
# postgresql-server-dev-15): this script neither builds nor downloads anything.
#
#   scripts/citus_cluster.sh start [DATA_DIR]   # prints CITUS_URL=...
#   scripts/citus_cluster.sh stop  [DATA_DIR]
#   scripts/citus_cluster.sh status [DATA_DIR]
#
# DATA_DIR defaults to $CITUS_DATA_DIR or /tmp/taskapi-citus. Ports: $CITUS_PORT (9700) for
# the coordinator, the next two for the workers. Trust authentication on 127.0.0.1 only: a
# cluster for tests, not for production. PostgreSQL refuses to run as root, so as root the
# servers run as the `postgres` user (runuser), and DATA_DIR is theirs.
#
# Then:  CITUS_URL=postgresql://postgres@127.0.0.1:9700/postgres uv run pytest -m citus
set -euo pipefail

PGBIN=${PGBIN:-/usr/lib/postgresql/15/bin}
BASE_PORT=${CITUS_PORT:-9700}
COMMAND=${1:-}
DATA_DIR=${2:-${CITUS_DATA_DIR:-/tmp/taskapi-citus}}
NODES=(coordinator worker1 worker2)

die() {
    echo "citus_cluster: $*" >&2
    exit 1
}

as_owner() {
    # Run a PostgreSQL binary as the data directory's owner (postgres when we are root).
    if [ "$(id -u)" = 0 ]; then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

port_of() {
    local i
    for i in "${!NODES[@]}"; do
        if [ "${NODES[$i]}" = "$1" ]; then
            echo $((BASE_PORT + i))
            return
        fi
    done
}

psql_on() {
    local port=$1
    shift
    as_owner "$PGBIN/psql" -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$port" -U postgres \
        -d postgres "$@"
}

require_citus() {
    [ -x "$PGBIN/pg_ctl" ] || die "PostgreSQL 15 is not installed ($PGBIN/pg_ctl not found; set PGBIN)"
    local libdir sharedir
    libdir=$("$PGBIN/pg_config" --pkglibdir)
    sharedir=$("$PGBIN/pg_config" --sharedir)
    if [ ! -f "$libdir/citus.so" ] || [ ! -f "$sharedir/extension/citus.control" ]; then
        die "Citus is not installed for this PostgreSQL ($libdir/citus.so or" \
            "$sharedir/extension/citus.control is missing). Install Citus 13 for PostgreSQL 15" \
            "(a package from Citus Data, or its source: ./configure && make && make install)" \
            "and run this again."
    fi
}

start() {
    require_citus
    if [ "$(id -u)" = 0 ]; then
        id postgres >/dev/null 2>&1 || die "running as root needs a 'postgres' user to run the servers"
    fi
    mkdir -p "$DATA_DIR"
    [ "$(id -u)" = 0 ] && chown postgres "$DATA_DIR"
    local node port dir fresh=()
    for node in "${NODES[@]}"; do
        port=$(port_of "$node")
        dir="$DATA_DIR/$node"
        if [ ! -f "$dir/PG_VERSION" ]; then
            as_owner "$PGBIN/initdb" -D "$dir" -U postgres --auth=trust -E UTF8 \
                --locale=C.UTF-8 >"$DATA_DIR/$node-initdb.log" 2>&1 ||
                die "initdb of $node failed; see $DATA_DIR/$node-initdb.log"
            cat >>"$dir/postgresql.conf" <<EOF
# written by scripts/citus_cluster.sh
port = $port
listen_addresses = '127.0.0.1'
unix_socket_directories = '$dir'
shared_preload_libraries = 'citus'
max_connections = 300
citus.shard_count = 32
EOF
            fresh+=("$node")
        fi
        if as_owner "$PGBIN/pg_ctl" -D "$dir" status >/dev/null 2>&1; then
            echo "$node already running on port $port" >&2
        else
            as_owner "$PGBIN/pg_ctl" -D "$dir" -w -t 60 -l "$DATA_DIR/$node.log" start >/dev/null ||
                die "$node did not start; see $DATA_DIR/$node.log"
        fi
    done
    for node in "${fresh[@]}"; do
        psql_on "$(port_of "$node")" -c "CREATE EXTENSION IF NOT EXISTS citus"
    done
    local coordinator
    coordinator=$(port_of coordinator)
    psql_on "$coordinator" -c "SELECT citus_set_coordinator_host('127.0.0.1', $coordinator)" >/dev/null
    for node in worker1 worker2; do
        port=$(port_of "$node")
        psql_on "$coordinator" -c \
            "SELECT citus_add_node('127.0.0.1', $port) WHERE NOT EXISTS (SELECT 1 FROM pg_dist_node WHERE nodeport = $port)" \
            >/dev/null
    done
    echo "Citus cluster up: coordinator 127.0.0.1:$coordinator, workers" \
        "$(port_of worker1) and $(port_of worker2); data under $DATA_DIR" >&2
    echo "CITUS_URL=postgresql://postgres@127.0.0.1:$coordinator/postgres"
}

stop() {
    local node dir stopped=0
    for node in "${NODES[@]}"; do
        dir="$DATA_DIR/$node"
        [ -f "$dir/PG_VERSION" ] || continue
        if as_owner "$PGBIN/pg_ctl" -D "$dir" status >/dev/null 2>&1; then
            as_owner "$PGBIN/pg_ctl" -D "$dir" -w -m fast stop >/dev/null
            stopped=$((stopped + 1))
        fi
    done
    echo "stopped $stopped node(s) under $DATA_DIR (the data stays; rm -rf it to start afresh)" >&2
}

status() {
    local node dir
    for node in "${NODES[@]}"; do
        dir="$DATA_DIR/$node"
        if [ -f "$dir/PG_VERSION" ] && as_owner "$PGBIN/pg_ctl" -D "$dir" status >/dev/null 2>&1; then
            echo "$node: running on port $(port_of "$node")"
        else
            echo "$node: stopped"
        fi
    done
}

case "$COMMAND" in
    start) start ;;
    stop) stop ;;
    status) status ;;
    *)
        echo "usage: $0 start|stop|status [DATA_DIR]" >&2
        exit 2
        ;;
esac
