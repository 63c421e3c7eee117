#!/usr/bin/env bash
# Load benchmark of the release binary: /healthz and a logged-in dashboard, on SQLite and PostgreSQL.
# Usage: bench/load.sh [seconds] [connections]   (needs wrk; PostgreSQL on 127.0.0.1:5432 for the second half)
# Traffic goes to 127.0.0.1 only and every run is bounded by the duration given.
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-10}
conns=${2:-16}
bin=target/release/skilleval
[ -x "$bin" ] || cargo build --release
command -v wrk >/dev/null || { echo "wrk is needed: apt-get install wrk"; exit 1; }
port=18080
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT

run() { # name url [cookie]
  local name=$1 url=$2 cookie=${3:-}
  local out
  if [ -n "$cookie" ]; then
    out=$(wrk -t2 -c"$conns" -d"${secs}s" --latency -H "Cookie: skilleval_session=$cookie" "$url")
  else
    out=$(wrk -t2 -c"$conns" -d"${secs}s" --latency "$url")
  fi
  local rps p99 non2xx
  rps=$(echo "$out" | awk '/Requests\/sec/ {print $2}')
  p99=$(echo "$out" | awk '$1=="99%" {print $2}')
  non2xx=$(echo "$out" | awk '/Non-2xx/ {print $5}')
  printf "| %-10s | %-22s | %10s | %8s | %s |\n" "$backend" "$name" "$rps" "$p99" "${non2xx:-0}"
}

bench_backend() { # backend database-url
  backend=$1
  local db=$2
  "$bin" serve --demo --database "$db" --data-dir "$work/$backend" --listen "127.0.0.1:$port" >"$work/$backend.log" 2>&1 &
  local pid=$!
  for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.2; done
  local cookie
  cookie=$(curl -s -D - -o /dev/null -H "Origin: http://127.0.0.1:$port" -H 'content-type: application/json' \
      -d '{"username":"district-410105","password":"demo-password"}' "http://127.0.0.1:$port/api/v1/session" \
      | sed -n 's/^set-cookie: skilleval_session=\([^;]*\);.*/\1/ip' | tr -d '\r')
  [ -n "$cookie" ] || { echo "login failed"; cat "$work/$backend.log"; exit 1; }
  run "/healthz" "http://127.0.0.1:$port/healthz"
  run "/dashboard (district)" "http://127.0.0.1:$port/dashboard" "$cookie"
  kill "$pid"; wait "$pid" 2>/dev/null || true
  port=$((port + 1))
}

echo "wrk -t2 -c$conns -d${secs}s, release build, $(nproc) cores, $(date -u +%Y-%m-%dT%H:%MZ)"
echo "| backend    | route                  |    req/s   |   p99    | non-2xx |"
echo "|------------|------------------------|------------|----------|---------|"
bench_backend sqlite "sqlite://$work/sqlite/skilleval.db"
if pg_isready -q -h 127.0.0.1 -p 5432; then
  dbname="skilleval_bench_$$"
  psql postgres://postgres@127.0.0.1:5432/postgres -qc "CREATE DATABASE $dbname"
  bench_backend postgres "postgres://postgres@127.0.0.1:5432/$dbname"
  psql postgres://postgres@127.0.0.1:5432/postgres -qc "DROP DATABASE $dbname" || true
else
  echo "(PostgreSQL not running: skipped)"
fi
