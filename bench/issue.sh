#!/usr/bin/env bash
# Bulk issuance against a bare Ed25519 sign + indexed insert of the same rows, one run each on
# SQLite and (when it runs) PostgreSQL (issue 9, issue 11 §2). Usage: bench/issue.sh [certificates]
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-100000}
bin=${BIN:-target/release/skilleval}
[ -x "$bin" ] || cargo build --release -p skilleval
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
echo "== SQLite, $n certificates, $(date -u +%FT%TZ)"
SKILLEVAL_LOG=warn "$bin" bench issue-certificates --data-dir "$work/sqlite" --certificates "$n"
if pg_isready -q -h 127.0.0.1 -p 5432; then
  db="skilleval_issue_$$"
  psql postgres://postgres@127.0.0.1:5432/postgres -qc "CREATE DATABASE $db"
  echo "== PostgreSQL, $n certificates"
  SKILLEVAL_LOG=warn "$bin" bench issue-certificates --data-dir "$work/pg" --database "postgres://postgres@127.0.0.1:5432/$db" --certificates "$n" || true
  psql postgres://postgres@127.0.0.1:5432/postgres -qc "DROP DATABASE $db" || true
fi
