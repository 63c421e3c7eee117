#!/usr/bin/env bash
# Public lists and the logged-in dashboard against /healthz of the same server, in one run
# (issue 11 §2): /public/filings, /public/institutions, /dashboard of a district officer and of the
# city center. Usage: bench/pages.sh [data-dir]
#   Without a data dir: a fresh demo database. With one (e.g. a set made by bench/public_query.sh),
#   that database. SECS, CONNS, THREADS change the wrk run (default -t2 -c64 -d8s).
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
need_tools
dir=${1:-}
if [ -z "$dir" ]; then dir=$(mktemp -d); fresh=1; else fresh=0; fi
port=${PORT:-18280}
start_server "$dir" "$port"
cleanup() { stop_server; [ "$fresh" = 1 ] && rm -rf "$dir"; true; }
trap cleanup EXIT
base=http://127.0.0.1:$port
district=$(login_cookie "$port" district-410105)
center=$(login_cookie "$port" center)
[ -n "$district" ] && [ -n "$center" ] || { echo "login failed"; exit 1; }
echo "data: $([ "$fresh" = 1 ] && echo 'fresh demo database' || echo "$dir"); wrk -t$threads -c$conns -d${secs}s; $(nproc) cores; load average before: $(cut -d' ' -f1-3 /proc/loadavg); $(date -u +%FT%TZ)"
echo "| route | req/s | p99 | non-2xx |"
echo "|---|---|---|---|"
wrk_row "/healthz" "$base/healthz"; h=$rps
wrk_row "/public/filings" "$base/public/filings"; f=$rps
wrk_row "/public/institutions" "$base/public/institutions"; i=$rps
wrk_row "/dashboard (district-410105)" "$base/dashboard" "" "$district"; d=$rps
wrk_row "/dashboard (center)" "$base/dashboard" "" "$center"; c=$rps
wrk_row "/healthz (again)" "$base/healthz"; h2=$rps
hm=$(awk -v a="$h" -v b="$h2" 'BEGIN{print (a+b)/2}')
echo "ratios to /healthz (mean of the two runs): filings $(ratio "$f" "$hm"), institutions $(ratio "$i" "$hm"), dashboard district $(ratio "$d" "$hm"), dashboard center $(ratio "$c" "$hm")"
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
