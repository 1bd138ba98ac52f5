#!/usr/bin/env bash
# `make run-cluster`: the registry as production runs it, on this machine — PostgreSQL
# (a private cluster, as the tests start one), two app servers (each its own gunicorn
# master with deploy/gunicorn.conf.py, each with its tick loop) and nginx in front, with
# the demo data. In the foreground until Ctrl-C; then everything it started is stopped
# and the PostgreSQL cluster removed: nothing is left running. The logs stay in the
# run's directory under tmp/.
#
# Settings, from the environment (defaults in brackets):
#   CLUSTER_PORT          nginx's port on 127.0.0.1 [8080]
#   CLUSTER_SERVER_PORTS  the app servers' ports on 127.0.0.1 ["8001 8002"]
#   CLUSTER_PG_PORT       PostgreSQL's port, or the next free one [55440]
#   DEMO_COUNT            enterprises in the demo data [3000]
#   TICK_EVERY            seconds between two ticks of each server's loop [60]
#   CLUSTER_READY_TIMEOUT seconds each server and nginx have to answer [60]
# The run's directory is tmp/cluster, or tmp/cluster-$CLUSTER_PORT on another port, so
# that runs on different ports never share one. A run refuses to start while another
# holds its directory or while one of its ports is taken.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
export PATH="$ROOT/.venv/bin:$PATH"
NGINX=/usr/sbin/nginx

die() {
    echo "run-cluster: $*" >&2
    exit 1
}

port_number() {  # $1: the variable's name, $2: its value
    [[ "$2" =~ ^[1-9][0-9]{0,4}$ ]] && ((10#$2 <= 65535)) ||
        die "$1: a port number (1-65535) expected, not '$2'"
}

port_busy() {  # something accepts connections on 127.0.0.1:$1
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

PORT="${CLUSTER_PORT:-8080}"
read -r -a SERVER_PORTS <<<"${CLUSTER_SERVER_PORTS:-8001 8002}"
PG_PORT="${CLUSTER_PG_PORT:-55440}"
DEMO_COUNT="${DEMO_COUNT:-3000}"
TICK_EVERY="${TICK_EVERY:-60}"
READY_TIMEOUT="${CLUSTER_READY_TIMEOUT:-60}"
((${#SERVER_PORTS[@]} > 0)) || die "CLUSTER_SERVER_PORTS: at least one port expected"
port_number CLUSTER_PORT "$PORT"
port_number CLUSTER_PG_PORT "$PG_PORT"
for port in "${SERVER_PORTS[@]}"; do port_number CLUSTER_SERVER_PORTS "$port"; done
[[ "$(printf '%s\n' "$PORT" "${SERVER_PORTS[@]}" | sort | uniq -d)" == "" ]] ||
    die "CLUSTER_PORT and CLUSTER_SERVER_PORTS: each port once"
[[ "$DEMO_COUNT" =~ ^[0-9]+$ ]] || die "DEMO_COUNT: a number expected, not '$DEMO_COUNT'"
[[ "$TICK_EVERY" =~ ^[1-9][0-9]*$ ]] || die "TICK_EVERY: seconds expected, not '$TICK_EVERY'"
[[ "$READY_TIMEOUT" =~ ^[1-9][0-9]*$ ]] ||
    die "CLUSTER_READY_TIMEOUT: seconds expected, not '$READY_TIMEOUT'"

# The run's directory: a name of the script's own making (a port number at most) under
# the checkout's tmp/, never a link; only what is inside it is removed.
NAME=cluster
[[ "$PORT" == 8080 ]] || NAME="cluster-$PORT"
for port in "$PORT" "${SERVER_PORTS[@]}"; do
    ! port_busy "$port" ||
        die "127.0.0.1:$port is in use (set CLUSTER_PORT or CLUSTER_SERVER_PORTS to free ports)"
done
mkdir -p "$ROOT/tmp"
STATE="$ROOT/tmp/$NAME"
[[ ! -L "$STATE" ]] || die "tmp/$NAME is a symbolic link; remove it first"
mkdir -p "$STATE"
# Held until the script ends (the descriptor closes with it): one run per directory.
exec 9<"$STATE"
flock -n 9 || die "another run-cluster is using tmp/$NAME; stop it first (Ctrl-C)"
find "$STATE" -mindepth 1 -maxdepth 1 -exec rm -rf -- {} +
mkdir "$STATE/nginx"
export PG_SERVER_STATE="$STATE/pg_server.env" PG_TEST_PORT="$PG_PORT"

children=()
stop() {
    trap - INT TERM EXIT
    for pid in "${children[@]}"; do
        kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
    done
    wait 2>/dev/null || true
    bash tests/pg_server.sh stop >/dev/null 2>&1 || true
    echo "Stopped the servers, nginx and PostgreSQL."
}
trap 'stop; exit 130' INT
trap 'stop; exit 143' TERM
trap stop EXIT

database_url="$(bash tests/pg_server.sh start | tail -1)"
pg_port="${database_url##*:}" && pg_port="${pg_port%%/*}"
random() { python -c 'import secrets; print(secrets.token_urlsafe(32))'; }
# What deploy/registry.env sets for several servers, with keys made for this run.
export DATABASE_URL="$database_url" RATELIMIT_STORAGE_URI="$database_url"
export SECRET_KEY="$(random)" SYNC_SECRET_KEY="$(random)" TRUSTED_PROXIES=1
export REGISTRY_WORKERS="${REGISTRY_WORKERS:-2}" REGISTRY_THREADS="${REGISTRY_THREADS:-8}"

flask --app wsgi db upgrade
flask --app wsgi registry seed
echo "Loading demo data ($DEMO_COUNT enterprises)..."
flask --app wsgi registry demo --count "$DEMO_COUNT"

# Until `url` answers 200 (a server: /readyz, its database answering too); the run
# stops with one line when `pid` ends first or READY_TIMEOUT seconds pass.
await() {  # $1: what, $2: its pid, $3: its URL, $4: its log
    local deadline=$((SECONDS + READY_TIMEOUT))
    until python -c 'import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=2)' \
        "$3" >/dev/null 2>&1; do
        kill -0 "$2" 2>/dev/null || die "$1 stopped while starting (see $4); stopping everything"
        ((SECONDS < deadline)) ||
            die "$1 did not answer $3 within $READY_TIMEOUT s (see $4); stopping everything"
        sleep 0.25
    done
}

servers=()
for port in "${SERVER_PORTS[@]}"; do
    setsid gunicorn --config deploy/gunicorn.conf.py --bind "127.0.0.1:$port" \
        --access-logfile "$STATE/server-$port.log" --error-logfile "$STATE/server-$port.log" \
        wsgi:app &
    children+=("$!") servers+=("$!")
    setsid bash -c "while :; do flask --app wsgi registry tick >>'$STATE/tick-$port.log' 2>&1 || true; sleep $TICK_EVERY; done" &
    children+=("$!")
done
for i in "${!SERVER_PORTS[@]}"; do
    port=${SERVER_PORTS[$i]}
    await "the app server on 127.0.0.1:$port" "${servers[$i]}" \
        "http://127.0.0.1:$port/readyz" "tmp/$NAME/server-$port.log"
done

python deploy/local_nginx.py "$STATE/nginx" "127.0.0.1:$PORT" \
    "${SERVER_PORTS[@]/#/127.0.0.1:}" >"$STATE/nginx/nginx.conf"
setsid "$NGINX" -p "$STATE/nginx" -c "$STATE/nginx/nginx.conf" -e "$STATE/nginx/error.log" &
nginx_pid=$!
children+=("$nginx_pid")
await "nginx on 127.0.0.1:$PORT" "$nginx_pid" "http://127.0.0.1:$PORT/healthz" \
    "tmp/$NAME/nginx/error.log"

echo "Serving on http://127.0.0.1:$PORT through nginx, servers on" \
    "${SERVER_PORTS[*]/#/127.0.0.1:}, PostgreSQL on 127.0.0.1:$pg_port"
echo "(logs in tmp/$NAME/; each response's X-Upstream header names its server); Ctrl-C stops."
# Until Ctrl-C, or until a server or nginx ends by itself: then everything stops.
status=0
wait -n "${servers[@]}" "$nginx_pid" || status=$?
for i in "${!SERVER_PORTS[@]}"; do
    kill -0 "${servers[$i]}" 2>/dev/null ||
        die "the app server on 127.0.0.1:${SERVER_PORTS[$i]} stopped (status $status; see tmp/$NAME/server-${SERVER_PORTS[$i]}.log); stopping everything"
done
die "nginx stopped (status $status; see tmp/$NAME/nginx/error.log); stopping everything"
