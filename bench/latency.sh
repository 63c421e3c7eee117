#!/usr/bin/env bash
# Verification latency at two sizes (issue 11 §2: at 10M ÷ at 100k ≤ 1.2): the JSON query over
# ~2,000 certificates of each set, alternating small, large, small, large, with few connections
# so that latency, not saturation, is measured. Both sets are made by bench/public_query.sh.
# Usage: bench/latency.sh <small-data-dir> <large-data-dir>   (CONNS default 8, SECS default 8, PORT default 18380)
set -euo pipefail
cd "$(dirname "$0")/.."
CONNS=${CONNS:-8}
. bench/lib.sh
need_tools
small=$1 large=$2
mean_ms() { echo "$1" | awk '$1=="Latency" && $2 ~ /^[0-9]/ {v=$2; if (v ~ /us$/) {sub("us","",v); v/=1000} else if (v ~ /ms$/) {sub("ms","",v)} else {sub("s","",v); v*=1000}; printf "%.3f", v}'; }
declare -A sum
echo "wrk -t$threads -c$conns -d${secs}s; load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
for round in 1 2; do
  for dir in "$small" "$large"; do
    start_server "$dir" "${PORT:-18380}"
    out=$(PATHS_FILE=$dir/api.paths wrk -t"$threads" -c"$conns" -d"${secs}s" --latency -s bench/paths.lua "http://127.0.0.1:${PORT:-18380}")
    m=$(mean_ms "$out"); p99=$(echo "$out" | awk '$1=="99%" {print $2}'); rps=$(echo "$out" | awk '/Requests\/sec/ {print $2}')
    echo "round $round  $(basename "$dir")  mean ${m} ms  p99 $p99  req/s $rps  RSS $(rss_kb) kB"
    sum[$dir]=$(awk -v a="${sum[$dir]:-0}" -v b="$m" 'BEGIN{print a+b}')
    stop_server
  done
done
echo "mean latency ratio large/small: $(ratio "${sum[$large]}" "${sum[$small]}"); load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
