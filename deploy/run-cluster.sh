#!/usr/bin/env bash
# `make run-cluster`: the registry as production runs it, on this machine — PostgreSQL
# (a private cluster, as the tests start one), two app servers (each its own gunicorn
# master with deploy/gunicorn.conf.py, on 127.0.0.1:8001 and :8002, each with its tick
# loop) and nginx in front on http://127.0.0.1:$CLUSTER_PORT (8080) with the demo data.
# In the foreground until Ctrl-C; then everything it started is stopped and the
# PostgreSQL cluster removed: nothing is left running.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
export PATH="$ROOT/.venv/bin:$PATH"
PORT="${CLUSTER_PORT:-8080}"
DEMO_COUNT="${DEMO_COUNT:-3000}"
TICK_EVERY="${TICK_EVERY:-60}"
STATE="$ROOT/tmp/cluster"
NGINX=/usr/sbin/nginx
export PG_SERVER_STATE="$STATE/pg_server.env" PG_TEST_PORT="${CLUSTER_PG_PORT:-55440}"

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

rm -rf "$STATE" && mkdir -p "$STATE/nginx"
database_url="$(bash tests/pg_server.sh start | tail -1)"
random() { python -c 'import secrets; print(secrets.token_urlsafe(32))'; }
# What deploy/registry.env sets for several servers, with keys made for this run.
export DATABASE_URL="$database_url" RATELIMIT_STORAGE_URI="$database_url"
export SECRET_KEY="$(random)" SYNC_SECRET_KEY="$(random)" TRUSTED_PROXIES=1
export REGISTRY_WORKERS="${REGISTRY_WORKERS:-2}" REGISTRY_THREADS="${REGISTRY_THREADS:-8}"

flask --app wsgi db upgrade
flask --app wsgi registry seed
echo "Loading demo data ($DEMO_COUNT enterprises)..."
flask --app wsgi registry demo --count "$DEMO_COUNT"

for port in 8001 8002; do
    setsid gunicorn --config deploy/gunicorn.conf.py --bind "127.0.0.1:$port" \
        --access-logfile "$STATE/server-$port.log" --error-logfile "$STATE/server-$port.log" \
        wsgi:app &
    children+=("$!")
    setsid bash -c "while :; do flask --app wsgi registry tick >>'$STATE/tick-$port.log' 2>&1 || true; sleep $TICK_EVERY; done" &
    children+=("$!")
done

python deploy/local_nginx.py "$STATE/nginx" "127.0.0.1:$PORT" 127.0.0.1:8001 127.0.0.1:8002 \
    >"$STATE/nginx/nginx.conf"
setsid "$NGINX" -p "$STATE/nginx" -c "$STATE/nginx/nginx.conf" -e "$STATE/nginx/error.log" &
nginx_pid=$!
children+=("$nginx_pid")

echo "Serving on http://127.0.0.1:$PORT through nginx, two servers on 127.0.0.1:8001 and :8002"
echo "(logs in tmp/cluster/; each response's X-Upstream header names its server); Ctrl-C stops."
wait "$nginx_pid"
