#!/usr/bin/env bash
# 100k-row xlsx import against a plain executemany of the same rows (issue 11 §2), one run:
# `skilleval bench import-candidates` generates the workbook and imports it (read, validate,
# insert, one transaction) and prints its time and peak RSS; then Python's sqlite3 inserts the
# rows that import wrote, with executemany in one transaction, into an empty copy of the schema.
# Usage: bench/import.sh [rows]
set -euo pipefail
cd "$(dirname "$0")/.."
rows=${1:-100000}
bin=${BIN:-target/release/skilleval}
[ -x "$bin" ] || cargo build --release -p skilleval
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
out=$(SKILLEVAL_LOG=warn "$bin" bench import-candidates --data-dir "$work" --rows "$rows")
echo "$out"
python3 - "$work/skilleval.db" "$work/plain.db" "$out" <<'PY'
import re, sqlite3, sys, time
src, dst, out = sys.argv[1], sys.argv[2], sys.argv[3]
a = sqlite3.connect(src)
b = sqlite3.connect(dst)
b.execute("PRAGMA journal_mode=WAL"); b.execute("PRAGMA synchronous=NORMAL")
for (sql,) in a.execute("SELECT sql FROM sqlite_master WHERE sql IS NOT NULL AND name NOT LIKE 'sqlite_%' AND type IN ('table','index')"):
    b.execute(sql)
cols = [r[1] for r in a.execute("PRAGMA table_info(candidates)") if r[1] != "id"]
plan = a.execute("SELECT plan_id FROM candidates GROUP BY plan_id ORDER BY COUNT(*) DESC LIMIT 1").fetchone()[0]
data = a.execute(f"SELECT {', '.join(cols)} FROM candidates WHERE plan_id = ?", (plan,)).fetchall()
b.execute("PRAGMA foreign_keys=OFF")
t = time.perf_counter()
b.execute("BEGIN")
b.executemany(f"INSERT INTO candidates ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})", data)
b.execute("COMMIT")
plain = time.perf_counter() - t
imp = float(re.search(r"import_total_s=([0-9.]+)", out).group(1))
print(f"executemany rows={len(data)} seconds={plain:.2f}; import ÷ executemany rate ratio = {plain / imp:.2f}")
PY
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
