#!/usr/bin/env bash
# Public certificate verification at size (issue 9, issue 11 §2). Generates N certificates with
# `skilleval bench-data` (reused when the data dir already holds a set), serves them from the
# release binary and loads, in one run: /healthz, the query page (number + name), the JSON query
# and the QR landing page /v/<number>?s=… (signature check + live state), each over ~2,000
# different certificates. Prints req/s, p99, ratios to /healthz and the server's RSS.
# Usage: bench/public_query.sh [certificates] [data-dir]
#   SQLite by default; DATABASE=postgres://postgres@127.0.0.1:5432/<db> for PostgreSQL.
#   SECS, CONNS, THREADS change the wrk run (default -t2 -c64 -d8s).
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
n=${1:-1000000}
dir=${2:-/tmp/skilleval-bench-$n}
need_tools
if [ ! -f "$dir/sample.tsv" ]; then
  mkdir -p "$dir"
  every=$(( n / 2000 > 0 ? n / 2000 : 1 ))
  "$bin" bench-data --data-dir "$dir" ${DATABASE:+--database "$DATABASE"} --certificates "$n" --demo \
    --sample "$dir/sample.tsv.part" --sample-every "$every" 2>"$dir/bench-data.log"
  mv "$dir/sample.tsv.part" "$dir/sample.tsv"
fi
python3 - "$dir" <<'PY'
import sys, urllib.parse
d = sys.argv[1]
with open(d + "/query.paths", "w") as q, open(d + "/api.paths", "w") as a, open(d + "/qr.paths", "w") as v:
    for line in open(d + "/sample.tsv", encoding="utf-8"):
        no, name, qr = line.rstrip("\n").split("\t")
        n = urllib.parse.quote(name)
        q.write(f"/public/certificates?cert_no={no}&name={n}\n")
        a.write(f"/api/v1/public/certificates/{no}?name={n}\n")
        v.write(qr + "\n")
PY
port=${PORT:-18180}
start_server "$dir" "$port"
trap stop_server EXIT
base=http://127.0.0.1:$port
echo "$n certificates, ${DATABASE:+PostgreSQL}${DATABASE:-SQLite}; wrk -t$threads -c$conns -d${secs}s; $(nproc) cores; load average before: $(cut -d' ' -f1-3 /proc/loadavg); $(date -u +%FT%TZ)"
echo "| route | req/s | p99 | non-2xx |"
echo "|---|---|---|---|"
wrk_row "/healthz" "$base/healthz"; h=$rps
wrk_row "query page /public/certificates (number + name)" "$base" "$dir/query.paths"; q=$rps; qp=$p99_ms
wrk_row "JSON /api/v1/public/certificates/{number}" "$base" "$dir/api.paths"; a=$rps; ap=$p99_ms
wrk_row "QR landing /v/{number}?s=… (signature + live state)" "$base" "$dir/qr.paths"; v=$rps; vp=$p99_ms
wrk_row "/healthz (again)" "$base/healthz"; h2=$rps
echo "ratios to /healthz (mean of the two runs): page $(ratio "$q" "$(awk -v a="$h" -v b="$h2" 'BEGIN{print (a+b)/2}')"), json $(ratio "$a" "$(awk -v a="$h" -v b="$h2" 'BEGIN{print (a+b)/2}')"), qr $(ratio "$v" "$(awk -v a="$h" -v b="$h2" 'BEGIN{print (a+b)/2}')"); p99 page ${qp} ms, json ${ap} ms, qr ${vp} ms"
echo "server RSS after the load: $(rss_kb) kB, peak $(hwm_kb) kB; load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
