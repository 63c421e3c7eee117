# Shared by the load benchmarks: start a release server, run wrk, print one table row.
# Traffic goes to 127.0.0.1 only and every run is bounded by its duration.
bin=${BIN:-target/release/skilleval}
secs=${SECS:-8}
conns=${CONNS:-64}
threads=${THREADS:-2}

need_tools() {
  [ -x "$bin" ] || cargo build --release -p skilleval
  command -v wrk >/dev/null || { echo "wrk is needed: apt-get install wrk"; exit 1; }
}

# start_server <data-dir> <port> [extra env assignments…]: sets $server_pid.
start_server() {
  local dir=$1 port=$2
  shift 2
  # Another server on the port would answer the health check and be measured instead.
  if curl -s -o /dev/null "http://127.0.0.1:$port/"; then echo "port $port is in use"; exit 1; fi
  env SKILLEVAL_LOG=warn SKILLEVAL_PUBLIC_QUERY_LIMIT=1000000000 "$@" \
    "$bin" serve --demo --data-dir "$dir" ${DATABASE:+--database "$DATABASE"} --listen "127.0.0.1:$port" >"$dir/serve.log" 2>&1 &
  server_pid=$!
  for _ in $(seq 1 300); do curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && return 0; sleep 0.2; done
  echo "server did not start"; cat "$dir/serve.log"; exit 1
}

stop_server() { kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; }

rss_kb() { awk '/^VmRSS/ {print $2}' "/proc/$server_pid/status"; }
hwm_kb() { awk '/^VmHWM/ {print $2}' "/proc/$server_pid/status"; }

login_cookie() { # port username
  curl -s -D - -o /dev/null -H "Origin: http://127.0.0.1:$1" -H 'content-type: application/json' \
    -d "{\"username\":\"$2\",\"password\":\"demo-password\"}" "http://127.0.0.1:$1/api/v1/session" \
    | sed -n 's/^set-cookie: skilleval_session=\([^;]*\);.*/\1/ip' | tr -d '\r'
}

# wrk_row <name> <url> [paths-file] [cookie]: prints "| name | req/s | p99 | non-2xx |" and sets
# $rps and $p99_ms.
wrk_row() {
  local name=$1 url=$2 paths=${3:-} cookie=${4:-} out
  local args=(-t"$threads" -c"$conns" -d"${secs}s" --latency)
  [ -n "$cookie" ] && args+=(-H "Cookie: skilleval_session=$cookie")
  if [ -n "$paths" ]; then
    out=$(PATHS_FILE=$paths wrk "${args[@]}" -s bench/paths.lua "$url")
  else
    out=$(wrk "${args[@]}" "$url")
  fi
  rps=$(echo "$out" | awk '/Requests\/sec/ {print $2}')
  local p99 non2xx
  p99=$(echo "$out" | awk '$1=="99%" {print $2}')
  p99_ms=$(echo "$p99" | awk '/us$/ {sub("us","");printf "%.2f", $1/1000; next} /ms$/ {sub("ms","");printf "%.2f", $1; next} /s$/ {sub("s","");printf "%.2f", $1*1000}')
  non2xx=$(echo "$out" | awk '/Non-2xx/ {print $5}')
  printf "| %-44s | %9s | %8s ms | %s |\n" "$name" "$rps" "$p99_ms" "${non2xx:-0}"
}

ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f", a/b}'; }
