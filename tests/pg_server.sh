#!/usr/bin/env bash
# A private PostgreSQL 15 cluster for the test suite.
#
#   bash tests/pg_server.sh start   # initdb + start on 127.0.0.1, prints the URL
#   bash tests/pg_server.sh url     # prints the URL of the running cluster
#   bash tests/pg_server.sh database NAME  # creates database NAME in it, prints its URL
#   bash tests/pg_server.sh stop    # stops the cluster and removes its directory
#   bash tests/pg_server.sh crash   # SIGKILLs every process of the cluster (no shutdown)
#   bash tests/pg_server.sh recover # starts it again in place (crash recovery), same URL
#   bash tests/pg_server.sh bindir  # prints the directory of the PostgreSQL programs
#
# The cluster lives in a fresh temporary directory, listens only on 127.0.0.1 (port
# 55432, or the next free one), trusts local connections (test use only) and holds an
# empty database `registry_test`. initdb refuses to run as root, so as root the server
# runs as the `postgres` system user (created by Debian's postgresql packages), or as a
# dedicated `registry-pg` user when that one does not exist.
#
# Its state (directory, port, URL) is kept in tmp/pg_server.env inside the checkout, or
# in the file PG_SERVER_STATE names, so every checkout (and every `make test` run, which
# sets PG_SERVER_STATE) has its own cluster; `start` and `stop` can be repeated.
# Durability settings are off: the data is thrown away after the run. With
# PG_SERVER_COMMITS_SURVIVE_KILLS=1, synchronous_commit and full_page_writes keep their
# defaults (on: a commit returns once its WAL is written), so that every commit survives
# a SIGKILL of the server's processes (the crash test, QUALITY.md R4, runs such a
# cluster of its own); fsync stays off, for only an operating-system crash or a power
# cut, which no test makes, needs it (with it on, each recovery spends seconds in fsync).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
STATE_DIR="$ROOT/tmp"
STATE="${PG_SERVER_STATE:-$STATE_DIR/pg_server.env}"
FIRST_PORT="${PG_TEST_PORT:-55432}"
DATABASE=registry_test
SUPERUSER=postgres

die() {
    echo "pg_server: $*" >&2
    exit 1
}

pg_bin() {
    if [[ -n "${PG_BIN:-}" ]]; then
        echo "$PG_BIN"
    elif [[ -x /usr/lib/postgresql/15/bin/initdb ]]; then
        echo /usr/lib/postgresql/15/bin
    elif command -v pg_config >/dev/null && [[ -x "$(pg_config --bindir)/initdb" ]]; then
        pg_config --bindir
    else
        die "PostgreSQL 15 server binaries not found (Debian package postgresql-15; 'make install' installs it as root)"
    fi
}

# The account the server runs as, and a prefix that runs a command as that account.
server_user() {
    if [[ "$(id -u)" -ne 0 ]]; then
        id -un
    elif id -u postgres >/dev/null 2>&1; then
        echo postgres
    else
        if ! id -u registry-pg >/dev/null 2>&1; then
            useradd --system --no-create-home --shell /usr/sbin/nologin registry-pg
        fi
        echo registry-pg
    fi
}

as_server_user() {
    if [[ "$(id -u)" -eq 0 ]]; then
        runuser -u "$RUN_AS" -- "$@"
    else
        "$@"
    fi
}

port_busy() {
    # Something accepts connections on 127.0.0.1:$1.
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

read_state() {
    [[ -f "$STATE" ]] || return 1
    # shellcheck disable=SC1090
    source "$STATE"
    [[ -n "${PGDATA_DIR:-}" && -n "${PGPORT_USED:-}" && -n "${PGURL:-}" ]]
}

alive() {
    # The process exists and is not a zombie waiting for its parent.
    local state
    state="$(ps -o stat= -p "$1" 2>/dev/null)" || return 1
    [[ "$state" != Z* ]]
}

running() {
    read_state || return 1
    [[ -d "$PGDATA_DIR/data" ]] || return 1
    RUN_AS="$(stat -c %U "$PGDATA_DIR/data")"
    as_server_user "$BIN/pg_ctl" status -D "$PGDATA_DIR/data" >/dev/null 2>&1
}

cmd_stop() {
    if read_state; then
        if [[ -d "$PGDATA_DIR/data" ]]; then
            RUN_AS="$(stat -c %U "$PGDATA_DIR/data")"
            as_server_user "$BIN/pg_ctl" stop -D "$PGDATA_DIR/data" -m fast -w -t 60 \
                >/dev/null 2>&1 || true
        fi
        case "$PGDATA_DIR" in
            */registry-pg.*) rm -rf "$PGDATA_DIR" ;;
        esac
        echo "pg_server: stopped the cluster on port $PGPORT_USED" >&2
    else
        echo "pg_server: no cluster to stop" >&2
    fi
    rm -f "$STATE"
}

start_on() {
    local port=$1 durability="-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
    [[ "${COMMITS_SURVIVE_KILLS:-0}" == 1 ]] && durability="-c fsync=off"
    as_server_user "$BIN/pg_ctl" start -D "$PGDATA_DIR/data" -w -t 60 \
        -l "$PGDATA_DIR/server.log" \
        -o "-c listen_addresses=127.0.0.1 -p $port -k $PGDATA_DIR/socket \
            $durability -c max_connections=200" \
        >/dev/null 2>&1
}

cmd_start() {
    if running; then
        echo "$PGURL"
        return
    fi
    [[ -f "$STATE" ]] && cmd_stop 2>/dev/null
    RUN_AS="$(server_user)"
    COMMITS_SURVIVE_KILLS="${PG_SERVER_COMMITS_SURVIVE_KILLS:-0}"
    # Under /tmp, which every account can traverse (the server user included).
    PGDATA_DIR="$(mktemp -d /tmp/registry-pg.XXXXXX)"
    mkdir -p "$PGDATA_DIR/socket"
    chown -R "$RUN_AS" "$PGDATA_DIR"
    chmod 700 "$PGDATA_DIR"
    if ! as_server_user "$BIN/initdb" -D "$PGDATA_DIR/data" -U "$SUPERUSER" \
        --auth=trust --encoding=UTF8 --locale=C --no-sync >"$PGDATA_DIR/initdb.log" 2>&1; then
        cat "$PGDATA_DIR/initdb.log" >&2
        rm -rf "$PGDATA_DIR"
        die "initdb failed"
    fi

    local port started=""
    for ((port = FIRST_PORT; port < FIRST_PORT + 20; port++)); do
        port_busy "$port" && continue
        if start_on "$port"; then
            started=$port
            break
        fi
        # Lost a race for the port, or a real failure: the log tells which.
        tail -n 5 "$PGDATA_DIR/server.log" >&2 2>/dev/null || true
    done
    if [[ -z "$started" ]]; then
        rm -rf "$PGDATA_DIR"
        die "could not start PostgreSQL on any port from $FIRST_PORT"
    fi

    PGPORT_USED=$started
    PGURL="postgresql+psycopg://$SUPERUSER@127.0.0.1:$PGPORT_USED/$DATABASE"
    mkdir -p "$(dirname "$STATE")"
    printf 'PGDATA_DIR=%q\nPGPORT_USED=%q\nPGURL=%q\nCOMMITS_SURVIVE_KILLS=%q\n' \
        "$PGDATA_DIR" "$PGPORT_USED" "$PGURL" "$COMMITS_SURVIVE_KILLS" >"$STATE"
    if ! "$BIN/createdb" -h 127.0.0.1 -p "$PGPORT_USED" -U "$SUPERUSER" "$DATABASE"; then
        cmd_stop
        die "createdb $DATABASE failed"
    fi
    echo "pg_server: PostgreSQL $("$BIN/postgres" -V | awk '{print $3}') on 127.0.0.1:$PGPORT_USED" \
        "as $RUN_AS, data in $PGDATA_DIR" >&2
    echo "$PGURL"
}

cmd_crash() {
    running || die "no cluster running"
    local postmaster children pid
    postmaster="$(head -n 1 "$PGDATA_DIR/data/postmaster.pid")"
    # The postmaster and its children (checkpointer, WAL writer, backends…) at once:
    # nothing shuts down or writes a checkpoint. The postmaster is stopped first, so
    # that it forks no backend between the listing of its children and the kill.
    kill -STOP "$postmaster"
    children="$(ps -o pid= --ppid "$postmaster" || true)"
    # shellcheck disable=SC2086  # one pid a word
    kill -KILL "$postmaster" $children 2>/dev/null || true
    for pid in $postmaster $children; do
        while alive "$pid"; do sleep 0.05; done
    done
    # No process of the cluster is left, so its lock files are stale, as after a power
    # cut; removed, so that `recover` need not wait until the killed postmaster has
    # been reaped (while it is a zombie its pid looks alive to the next one).
    rm -f "$PGDATA_DIR/data/postmaster.pid" "$PGDATA_DIR/socket/.s.PGSQL.$PGPORT_USED.lock"
    echo "pg_server: killed the cluster on port $PGPORT_USED" >&2
}

cmd_recover() {
    read_state || die "no cluster to recover"
    local postmaster try
    postmaster="$(head -n 1 "$PGDATA_DIR/data/postmaster.pid" 2>/dev/null || true)"
    if [[ -n "$postmaster" ]] && alive "$postmaster"; then
        return  # running
    fi
    RUN_AS="$(stat -c %U "$PGDATA_DIR/data")"
    # Tried again for a while, should the port not be free yet.
    for ((try = 0; try < 100; try++)); do
        start_on "$PGPORT_USED" && return
        sleep 0.1
    done
    tail -n 5 "$PGDATA_DIR/server.log" >&2 2>/dev/null || true
    die "could not start the cluster again on port $PGPORT_USED"
}

cmd_url() {
    running || die "no cluster running (bash tests/pg_server.sh start)"
    echo "$PGURL"
}

# Another empty database on the running cluster: one for each pytest run beside another.
cmd_database() {
    local name=${1:-}
    [[ "$name" =~ ^[a-z_][a-z0-9_]*$ ]] || die "database: a name of a-z, 0-9 and _ expected"
    running || die "no cluster running (bash tests/pg_server.sh start)"
    "$BIN/createdb" -h 127.0.0.1 -p "$PGPORT_USED" -U "$SUPERUSER" "$name" ||
        die "createdb $name failed"
    echo "${PGURL%/*}/$name"
}

BIN="$(pg_bin)"
case "${1:-}" in
    start) cmd_start ;;
    stop) cmd_stop ;;
    url) cmd_url ;;
    database) cmd_database "${2:-}" ;;
    crash) cmd_crash ;;
    recover) cmd_recover ;;
    bindir) echo "$BIN" ;;
    *)
        echo "usage: bash tests/pg_server.sh start|stop|url|database NAME|crash|recover|bindir" >&2
        exit 2
        ;;
esac
