#!/usr/bin/env bash
# Several app servers the way a city deploys them (issue 11 §3): a fresh PostgreSQL database,
# three `skilleval serve` started together, moto as S3 for uploads, nginx in front with the
# configuration of docs/operations.md, and an SMS gateway stub for the outbox. Through nginx it
# proves: every server started (migrations and reference data loaded once), a session made on
# one server works on the others, form posts pass the cross-origin check with public_url (and a
# foreign origin is refused), background work runs once (scheduler, outbox, certificate jobs),
# certificate numbers stay unique when three servers issue at once, an upload made through one
# server downloads through every other. The full form adds a wrk run through nginx and its ratio
# to one server's /healthz.
#
#   bench/multi_server.sh [--short]
#
# Env: SKILLEVAL_BIN (default target/release/skilleval, else target/debug/skilleval),
# PG_SERVER (default postgres://postgres@127.0.0.1:5432), MOTO_SERVER (default moto_server),
# NGINX (default nginx), KEEP=1 keeps the work directory and the database. Exit 0 when every
# check passed; each check prints "ok - …", a failure "FAIL - …" and stops.
set -euo pipefail
cd "$(dirname "$0")/.."
short=0
[ "${1:-}" = "--short" ] && short=1

bin=${SKILLEVAL_BIN:-}
if [ -z "$bin" ]; then
  if [ -x target/release/skilleval ]; then bin=target/release/skilleval; else bin=target/debug/skilleval; fi
fi
bin=$(readlink -f "$bin")
pg=${PG_SERVER:-postgres://postgres@127.0.0.1:5432}
moto=${MOTO_SERVER:-moto_server}
nginx_bin=${NGINX:-nginx}
[ -x "$bin" ] || { echo "FAIL - no skilleval binary at $bin (cargo build -p skilleval)"; exit 1; }
for t in curl psql python3 "$moto" "$nginx_bin"; do
  command -v "$t" >/dev/null || { echo "FAIL - $t is needed"; exit 1; }
done

work=$(mktemp -d /tmp/skilleval-multi.XXXXXX)
chmod 755 "$work"
db="skilleval_multi_$$_$RANDOM"
pids=()
cleanup() {
  local rc=$?
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  [ -f "$work/nginx.pid" ] && kill "$(cat "$work/nginx.pid")" 2>/dev/null || true
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  if [ "${KEEP:-0}" != 1 ]; then
    psql "$pg/postgres" -qtAc "DROP DATABASE IF EXISTS $db" >/dev/null 2>&1 || true
    [ $rc -eq 0 ] && rm -rf "$work"
  fi
  [ $rc -ne 0 ] && echo "(logs in $work)"
  exit $rc
}
trap cleanup EXIT

ok() { echo "ok - $*"; }
fail() { echo "FAIL - $*"; exit 1; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
sql() { psql "$pg/$db" -qtAX -c "$1"; }
wait_http() { # url seconds
  for _ in $(seq 1 $(( $2 * 5 ))); do curl -s -o /dev/null "$1" && return 0; sleep 0.2; done
  return 1
}

# -- PostgreSQL: a fresh database --------------------------------------------------------------
pg_isready -q -d "$pg/postgres" 2>/dev/null || psql "$pg/postgres" -qtAc "SELECT 1" >/dev/null \
  || fail "PostgreSQL is not running at $pg"
psql "$pg/postgres" -qtAc "CREATE DATABASE $db" >/dev/null
ok "fresh database $db"

# -- moto (S3) and the SMS gateway stub -------------------------------------------------------
moto_port=$(free_port)
"$moto" -H 127.0.0.1 -p "$moto_port" >"$work/moto.log" 2>&1 &
pids+=($!)
wait_http "http://127.0.0.1:$moto_port/" 30 || fail "moto_server did not start"
curl -sf -X PUT "http://127.0.0.1:$moto_port/skilleval-files" >/dev/null || fail "bucket not created"
ok "moto S3 on :$moto_port, bucket skilleval-files"

sms_port=$(free_port)
cat >"$work/sms_stub.py" <<'EOF'
# Answers Alibaba Cloud SendSms like the provider and appends each message's OutId to a file.
import http.server, sys, urllib.parse, json, threading
lock = threading.Lock()
class H(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0))).decode()
        f = urllib.parse.parse_qs(body)
        with lock, open(sys.argv[2], "a") as out:
            out.write(f.get("OutId", ["?"])[0] + "\n")
        b = json.dumps({"Code": "OK", "Message": "OK", "BizId": "stub", "RequestId": "stub"}).encode()
        self.send_response(200); self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(b))); self.end_headers(); self.wfile.write(b)
    def log_message(self, *a): pass
http.server.ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), H).serve_forever()
EOF
: >"$work/sms_sent.txt"
python3 "$work/sms_stub.py" "$sms_port" "$work/sms_sent.txt" &
pids+=($!)

# -- three app servers, started together on the fresh database --------------------------------
nginx_port=$(free_port)
public_url="http://127.0.0.1:$nginx_port"
cat >"$work/skilleval.toml" <<EOF
database = "$pg/$db"
public_url = "$public_url"
trust_proxy = true
public_query_limit = 1000000000
blob_store = "s3"
s3_bucket = "skilleval-files"
s3_endpoint = "http://127.0.0.1:$moto_port"
s3_region = "us-east-1"
s3_access_key_id = "testing"
s3_prefix = "blobs"
sms_url = "http://127.0.0.1:$sms_port/"
sms_access_key_id = "stub-key"
sms_sign_name = "郑州人社"
sms_templates = "default=SMS_1"
outbox_every_seconds = 1
log = "info,sqlx=warn,tower_http=warn"
EOF
# Secrets come from the environment, never from the file or the database.
export SKILLEVAL_S3_SECRET_ACCESS_KEY=moto-secret-Xq7w SKILLEVAL_SMS_ACCESS_KEY_SECRET=stub-secret
ports=()
for i in 1 2 3; do
  ports+=("$(free_port)")
  mkdir -p "$work/s$i"
done
start_servers() { # all three at the same moment; sets server_pids
  server_pids=()
  for i in 0 1 2; do
    "$bin" --config "$work/skilleval.toml" serve --demo --data-dir "$work/s$((i+1))" \
      --listen "127.0.0.1:${ports[$i]}" >>"$work/s$((i+1))/serve.log" 2>&1 &
    server_pids+=($!)
    pids+=($!)
  done
  for i in 0 1 2; do
    for _ in $(seq 1 900); do
      curl -sf "http://127.0.0.1:${ports[$i]}/healthz" >/dev/null && break
      kill -0 "${server_pids[$i]}" 2>/dev/null || { cat "$work/s$((i+1))/serve.log"; fail "server $((i+1)) exited at start"; }
      sleep 0.2
    done
    curl -sf "http://127.0.0.1:${ports[$i]}/healthz" >/dev/null || fail "server $((i+1)) not healthy"
  done
}
stop_servers() {
  for p in "${server_pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${server_pids[@]}"; do wait "$p" 2>/dev/null || true; done
}
t0=$(date +%s.%N)
start_servers
ok "3 servers started together on the fresh database in $(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN{printf "%.1f", b-a}') s (ports ${ports[*]})"
[ "$(sql "SELECT COUNT(*) FROM schema_migrations")" = "$(sql "SELECT MAX(version) FROM schema_migrations")" ] \
  || fail "migrations applied unevenly"
[ "$(sql "SELECT COUNT(*) - COUNT(DISTINCT code) FROM divisions")" = 0 ] || fail "divisions loaded twice"
[ "$(sql "SELECT COUNT(*) FROM users WHERE username = 'admin'")" = 1 ] || fail "demo data seeded twice"
[ "$(sql "SELECT COUNT(*) FROM audit_events WHERE action = 'reference.load'")" -le 1 ] || fail "reference data loaded twice"
ok "migrations ($(sql "SELECT COUNT(*) FROM schema_migrations")), reference data ($(sql "SELECT COUNT(*) FROM divisions") divisions, $(sql "SELECT COUNT(*) FROM occupations") occupations) and demo data loaded once"
for i in 1 2 3; do
  grep -q "blobs=s3:http://127.0.0.1:$moto_port/skilleval-files/blobs" "$work/s$i/serve.log" \
    || fail "server $i does not use the S3 store"
  grep -q "moto-secret-Xq7w" "$work/s$i/serve.log" && fail "server $i logged the S3 secret"
done
ok "every server stores files in S3 (s3:http://127.0.0.1:$moto_port/skilleval-files/blobs)"

# -- the scheduler: three servers sweep at once, each record moves once ------------------------
# Every filing in 公示 gets a period that ended yesterday, then the three servers restart at the
# same moment (a restart on an existing database, too): each sweeps at start.
stop_servers
yesterday=$(date -u -d yesterday +%F)
due=$(sql "UPDATE filing_applications SET publicity_end = '$yesterday' WHERE state = 'publicity' RETURNING id" | grep -c . || true)
[ "$due" -gt 0 ] || fail "no filing in publicity to sweep"
start_servers
for _ in $(seq 1 300); do
  [ "$(sql "SELECT COUNT(*) FROM filing_applications WHERE state = 'publicity'")" = 0 ] && break
  sleep 0.2
done
[ "$(sql "SELECT COUNT(*) FROM filing_applications WHERE state = 'publicity'")" = 0 ] || fail "the sweep left filings in publicity"
sched=$(sql "SELECT COUNT(*) FROM audit_events WHERE actor = 'system:scheduler' AND object_type = 'filing_application'")
dup_sched=$(sql "SELECT COUNT(*) FROM (SELECT object_type, object_id, action FROM audit_events WHERE actor = 'system:scheduler' AND object_type = 'filing_application' GROUP BY object_type, object_id, action HAVING COUNT(*) > 1) d")
[ "$dup_sched" = 0 ] || fail "the scheduler applied a transition twice"
[ "$sched" = "$due" ] || fail "$due filings due, $sched scheduler events"
for i in 1 2 3; do
  grep -q "publicity sweep failed\|retention.*failed" "$work/s$i/serve.log" && fail "server $i: a sweep failed"
done
ok "scheduler: 3 servers restarted together and swept at once: $due filings filed, each exactly once ($sched events)"

# -- nginx with the configuration of docs/operations.md ---------------------------------------
mkdir -p "$work/nginx/tmp"
python3 - "$work/nginx/skilleval.conf" "$nginx_port" "${ports[@]}" <<'EOF'
import re, sys
doc = open("docs/operations.md", encoding="utf-8").read()
block = doc.split("<!-- multi_server.sh: nginx begin -->")[1].split("<!-- multi_server.sh: nginx end -->")[0]
conf = block.split("```nginx\n")[1].split("```")[0]
out, port, servers = sys.argv[1], sys.argv[2], sys.argv[3:]
lines, done = [], False
for l in conf.splitlines():
    if re.match(r"\s*server 10\.0\.0\.\d+:8080", l):
        if not done:
            for p in servers:
                lines.append(re.sub(r"10\.0\.0\.\d+:8080", "127.0.0.1:" + p, l))
            done = True
        continue
    lines.append(l.replace("listen 80;", "listen 127.0.0.1:%s;" % port))
assert done and any("127.0.0.1:%s;" % port in l for l in lines)
open(out, "w").write("\n".join(lines) + "\n")
EOF
user_line=""
[ "$(id -u)" = 0 ] && user_line="user root;"
cat >"$work/nginx/nginx.conf" <<EOF
$user_line
worker_processes 2;
pid $work/nginx.pid;
error_log $work/nginx/error.log warn;
events { worker_connections 4096; }
http {
    access_log off;
    client_body_temp_path $work/nginx/tmp/body;
    proxy_temp_path $work/nginx/tmp/proxy;
    fastcgi_temp_path $work/nginx/tmp/fastcgi;
    uwsgi_temp_path $work/nginx/tmp/uwsgi;
    scgi_temp_path $work/nginx/tmp/scgi;
    include $work/nginx/skilleval.conf;
}
EOF
"$nginx_bin" -t -q -c "$work/nginx/nginx.conf" -p "$work/nginx" -e "$work/nginx/error.log" 2>"$work/nginx/test.log" \
  || { cat "$work/nginx/test.log"; fail "nginx configuration refused"; }
"$nginx_bin" -c "$work/nginx/nginx.conf" -p "$work/nginx" -e "$work/nginx/error.log"
wait_http "$public_url/healthz" 10 || fail "nginx did not start"
ok "nginx on :$nginx_port with the configuration of docs/operations.md"

# Which app server answered (nginx's X-Served-By).
served_by() { tr -d '\r' | sed -n 's/^x-served-by: //ip' | tail -n1; }

# -- a session made on one server works on the others -----------------------------------------
login_hdr=$(curl -s -D - -o /dev/null -H 'content-type: application/json' -H "Origin: $public_url" \
  -d '{"username":"center","password":"demo-password"}' "$public_url/api/v1/session")
cookie=$(echo "$login_hdr" | tr -d '\r' | sed -n 's/^set-cookie: skilleval_session=\([^;]*\);.*/\1/ip')
[ -n "$cookie" ] || fail "login through nginx"
made_on=$(echo "$login_hdr" | served_by)
for p in "${ports[@]}"; do
  code=$(curl -s -o /dev/null -w '%{http_code}' -b "skilleval_session=$cookie" "http://127.0.0.1:$p/api/v1/me")
  [ "$code" = 200 ] || fail "the session made on $made_on is refused by :$p ($code)"
done
seen=""
for _ in 1 2 3 4 5 6; do
  h=$(curl -s -D - -o /dev/null -b "skilleval_session=$cookie" "$public_url/api/v1/me")
  echo "$h" | head -n1 | grep -q 200 || fail "session through nginx"
  seen="$seen $(echo "$h" | served_by)"
done
[ "$(echo "$seen" | tr ' ' '\n' | sort -u | grep -c .)" = 3 ] || fail "nginx did not spread requests over 3 servers:$seen"
ok "a session made on $made_on works on all three servers (through nginx:$seen)"

# -- forms and the cross-origin check with public_url -----------------------------------------
form_login() { # extra curl args…; prints the status
  curl -s -o /dev/null -w '%{http_code}' "$@" --data-urlencode username=bureau \
    --data-urlencode password=demo-password "$public_url/login"
}
for _ in 1 2 3; do
  code=$(form_login -H "Origin: $public_url")
  [ "$code" = 303 ] || fail "a form post with Origin = public_url was answered $code"
  code=$(form_login -H "Origin: $public_url" -H "Sec-Fetch-Site: same-origin")
  [ "$code" = 303 ] || fail "a same-origin form post was answered $code"
  code=$(form_login -H "Origin: http://evil.example")
  [ "$code" = 403 ] || fail "a form post from a foreign origin was answered $code"
  code=$(form_login -H "Origin: http://127.0.0.1" )
  [ "$code" = 403 ] || fail "a form post from the proxied Host's origin (no port) was answered $code"
  code=$(form_login -H "Origin: $public_url" -H "Sec-Fetch-Site: cross-site")
  [ "$code" = 403 ] || fail "a cross-site form post was answered $code"
done
ok "form posts through nginx: Origin = public_url passes (303) on every server; foreign origins and cross-site are refused (403)"

# -- an upload through one server downloads through the others --------------------------------
inst=$(sql "SELECT institution_id FROM users WHERE username = 'inst-1'")
inst_cookie=$(curl -s -D - -o /dev/null -H 'content-type: application/json' \
  -d '{"username":"inst-1","password":"demo-password"}' "$public_url/api/v1/session" \
  | tr -d '\r' | sed -n 's/^set-cookie: skilleval_session=\([^;]*\);.*/\1/ip')
printf '%%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\n%% multi-server %s\nxref\n0 3\n0000000000 65535 f \n0000000009 00000 n \n0000000052 00000 n \ntrailer<</Size 3/Root 1 0 R>>\nstartxref\n98\n%%%%EOF\n' "$db" >"$work/upload.pdf"
up=$(curl -s -D "$work/upload.hdr" -b "skilleval_session=$inst_cookie" -F kind=business_license \
  -F "file=@$work/upload.pdf;filename=营业执照.pdf" "$public_url/api/v1/institutions/$inst/documents")
up_on=$(served_by <"$work/upload.hdr")
doc=$(echo "$up" | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["id"])') || fail "upload: $up"
want=$(sha256sum "$work/upload.pdf" | cut -d' ' -f1)
for p in "${ports[@]}"; do
  curl -sf -b "skilleval_session=$inst_cookie" "http://127.0.0.1:$p/documents/$doc" -o "$work/down.pdf" \
    || fail "download of document $doc from :$p"
  [ "$(sha256sum "$work/down.pdf" | cut -d' ' -f1)" = "$want" ] || fail "the bytes from :$p differ"
done
for i in 1 2 3; do [ ! -e "$work/s$i/blobs" ] || fail "server $i wrote a local blobs directory"; done
ok "an upload through $up_on (document $doc, sha256 ${want:0:12}…) downloads identically from all three servers; no local blob directory"

# -- certificate numbers stay unique when three servers issue at once -------------------------
plans=$( "$bin" --config "$work/skilleval.toml" bench submitted-plans --data-dir "$work/s1" --plans 6 --candidates 5 --seed 900 )
read -r -a plan_ids <<<"$plans"
[ "${#plan_ids[@]}" = 6 ] || fail "plans for issuance: $plans"
before=$(sql "SELECT COUNT(*) FROM certificates")
i=0
for plan in "${plan_ids[@]}"; do
  # Two servers at once per plan (a double click), three plans per server, all at the same moment.
  for k in 0 1; do
    p=${ports[$(( (i + k) % 3 ))]}
    curl -s -o "$work/issue-$plan-$k.json" -w '%{http_code}\n' -b "skilleval_session=$cookie" \
      -H 'content-type: application/json' -d '{}' "http://127.0.0.1:$p/api/v1/plans/$plan/certificates/issue" \
      >"$work/issue-$plan-$k.code" &
  done
  i=$((i + 1))
done
wait_issue_jobs() {
  for _ in $(seq 1 600); do
    [ "$(sql "SELECT COUNT(*) FROM cert_batches WHERE status = 'running'" 2>/dev/null || echo 1)" = 0 ] \
      && [ "$(sql "SELECT COUNT(*) FROM jobs WHERE finished_at IS NULL" 2>/dev/null || echo 1)" = 0 ] && return 0
    sleep 0.2
  done
  return 1
}
# Wait for the curl calls (children of this shell started above; the servers are waited for later).
for f in "$work"/issue-*.code; do for _ in $(seq 1 300); do [ -s "$f" ] && break; sleep 0.1; done; done
codes=$(cat "$work"/issue-*.code | sort | uniq -c | tr -s ' ' | tr '\n' ';')
grep -qv -e '^202$' -e '^409$' "$work"/issue-*.code && fail "issue answers: $codes"
wait_issue_jobs || fail "certificate jobs did not finish: $(sql "SELECT status, COUNT(*) FROM cert_batches GROUP BY status")"
issued=$(( $(sql "SELECT COUNT(*) FROM certificates") - before ))
[ "$issued" = 30 ] || fail "$issued certificates issued for 6 plans × 5 passed candidates (want 30)"
[ "$(sql "SELECT COUNT(*) FROM (SELECT cert_no FROM certificates GROUP BY cert_no HAVING COUNT(*) > 1) d")" = 0 ] \
  || fail "duplicate certificate numbers"
[ "$(sql "SELECT COUNT(*) FROM cert_batches WHERE plan_id IN ($(echo "${plan_ids[*]}" | tr ' ' ','))")" = 6 ] \
  || fail "more than one batch per plan"
ok "12 issue requests at once over 3 servers (answers: $codes): 30 certificates, numbers unique, one batch per plan"

# -- every background job runs once -----------------------------------------------------------
dup_jobs=$(sql "SELECT COUNT(*) FROM (SELECT object_id FROM audit_events WHERE action = 'certificate.issue' GROUP BY object_id HAVING COUNT(*) > 1) d")
[ "$dup_jobs" = 0 ] || fail "a certificate batch was issued twice"
# The outbox: 30 SMS queued now, sent by three senders; each exactly once.
now=$(date -u +%Y-%m-%dT%H:%M:%SZ)
sql "INSERT INTO outbox (channel, recipient, body, status, attempts, created_at, next_attempt_at, kind, params)
     SELECT 'sms', '1380371' || LPAD(g::text, 4, '0'), '【郑州技能评价】多服务器测试 ' || g, 'pending', 0, '$now', '$now', 'notice',
            '{\"content\":\"多服务器测试 ' || g || '\"}' FROM generate_series(1, 30) g" >/dev/null
want_ids=$(sql "SELECT id FROM outbox WHERE body LIKE '【郑州技能评价】多服务器测试%' ORDER BY id")
for _ in $(seq 1 300); do
  [ "$(sql "SELECT COUNT(*) FROM outbox WHERE body LIKE '【郑州技能评价】多服务器测试%' AND status <> 'sent'")" = 0 ] && break
  sleep 0.2
done
sleep 1.5   # one more round of every sender: nothing may be sent again
[ "$(sql "SELECT COUNT(*) FROM outbox WHERE body LIKE '【郑州技能评价】多服务器测试%' AND status = 'sent'")" = 30 ] \
  || fail "outbox: $(sql "SELECT status, COUNT(*) FROM outbox WHERE body LIKE '【郑州技能评价】多服务器测试%' GROUP BY status")"
dups=$(sort "$work/sms_sent.txt" | uniq -d | grep -c . || true)
[ "$dups" = 0 ] || fail "the gateway received $dups messages twice"
for id in $want_ids; do grep -qx "$id" "$work/sms_sent.txt" || fail "message $id never reached the gateway"; done
senders=0
for i in 1 2 3; do grep -q "outbox sent" "$work/s$i/serve.log" && senders=$((senders + 1)); done
ok "background work ran once: certificate batches (one certificate.issue each), outbox (30 SMS queued, each reached the gateway once; $senders of 3 servers' senders sent some)"
"$bin" --config "$work/skilleval.toml" audit verify --data-dir "$work/s1" >"$work/audit.txt" || { cat "$work/audit.txt"; fail "audit verify"; }
ok "audit chain verifies after concurrent appends from three servers: $(tail -n1 "$work/audit.txt")"

# -- load through nginx vs one server directly (full form only) -------------------------------
if [ $short = 0 ] && command -v wrk >/dev/null; then
  secs=${SECS:-8}
  conns=${CONNS:-32}
  run_wrk() { wrk -t2 -c"$conns" -d"${secs}s" --latency "$1" | awk '/Requests\/sec/ {r=$2} $1=="99%" {p=$2} /Non-2xx/ {e=$5} END {printf "%s %s %s", r, p, (e==""?0:e)}'; }
  read -r direct_rps direct_p99 direct_err <<<"$(run_wrk "http://127.0.0.1:${ports[0]}/healthz")"
  read -r nginx_rps nginx_p99 nginx_err <<<"$(run_wrk "$public_url/healthz")"
  read -r cert_rps cert_p99 cert_err <<<"$(run_wrk "$public_url/public/certificates")"
  echo "| route | req/s | ratio to direct /healthz | p99 | non-2xx |"
  echo "|---|---|---|---|---|"
  echo "| /healthz, one server directly | $direct_rps | 1 | $direct_p99 | $direct_err |"
  echo "| /healthz through nginx (3 servers) | $nginx_rps | $(awk -v a="$nginx_rps" -v b="$direct_rps" 'BEGIN{printf "%.2f", a/b}') | $nginx_p99 | $nginx_err |"
  echo "| /public/certificates through nginx | $cert_rps | $(awk -v a="$cert_rps" -v b="$direct_rps" 'BEGIN{printf "%.2f", a/b}') | $cert_p99 | $cert_err |"
  echo "command: wrk -t2 -c$conns -d${secs}s --latency; load average: $(cut -d' ' -f1-3 /proc/loadavg); cores: $(nproc); binary: $bin"
fi
echo "multi-server: all checks passed"
