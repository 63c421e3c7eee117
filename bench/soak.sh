#!/usr/bin/env bash
# Soak (issue 11 §6): N minutes at 80 % of the peak rate of a mixed workload — public certificate
# queries (page, JSON, QR landing), public lists, logged-in pages of several demo accounts and
# writes — with the server's RSS sampled every 10 s. Documented, not part of CI.
# Usage: bench/soak.sh [minutes] [certificates]
#   Uses target/release/skilleval as it is (build it first: cargo build --release -p skilleval).
#   The data set (demo data + N certificates from bench-data, default 100,000) is generated once
#   into $SOAK_BASE (default /tmp/skilleval-soak-base-<N>) and copied for each run, since the soak
#   writes. SQLite by default. PEAK_SECONDS (20), CLIENTS (32), FRACTION (0.8) or RATE (req/s,
#   skips the peak phase) change the run. Traffic goes to 127.0.0.1 only.
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
minutes=${1:-10}
n=${2:-100000}
[ -x "$bin" ] || { echo "$bin is missing: cargo build --release -p skilleval"; exit 1; }
base=${SOAK_BASE:-/tmp/skilleval-soak-base-$n}
if [ ! -f "$base/sample.tsv" ]; then
  rm -rf "$base"; mkdir -p "$base"
  every=$(( n / 2000 > 0 ? n / 2000 : 1 ))
  echo "generating the data set: demo data + $n certificates into $base"
  "$bin" bench-data --data-dir "$base" --certificates "$n" --demo \
    --sample "$base/sample.tsv.part" --sample-every "$every" 2>"$base/bench-data.log"
  mv "$base/sample.tsv.part" "$base/sample.tsv"
fi
dir=$(mktemp -d /tmp/skilleval-soak-run.XXXXXX)
cp -a "$base/." "$dir/"
port=${PORT:-18380}
# SERVER_ENV: extra environment of the server, e.g. SERVER_ENV="MALLOC_ARENA_MAX=2".
start_server "$dir" "$port" ${SERVER_ENV:-}
cleanup() { stop_server; cp "$dir/serve.log" "$base/last-serve.log" 2>/dev/null; rm -rf "$dir"; }
trap cleanup EXIT
echo "server pid $server_pid on port $port, RSS at start $(rss_kb) kB; $(nproc) cores; data: demo + $n certificates (SQLite)"
status=0
"$bin" bench soak --url "http://127.0.0.1:$port" --sample "$dir/sample.tsv" --pid "$server_pid" \
  --minutes "$minutes" --peak-seconds "${PEAK_SECONDS:-20}" --clients "${CLIENTS:-32}" \
  --fraction "${FRACTION:-0.8}" ${RATE:+--rate "$RATE"} || status=$?
echo "server RSS at the end: $(rss_kb) kB, peak $(hwm_kb) kB"
if grep -qiE 'panic|ERROR' "$dir/serve.log"; then
  echo "server log (errors):"; grep -iE 'panic|ERROR' "$dir/serve.log" | sort | uniq -c | sort -rn | head -20
fi
exit "$status"
