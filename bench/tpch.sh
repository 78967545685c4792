#!/usr/bin/env bash
# TPC-H SF1 benchmark: ember (release, local[2]) vs DuckDB (PyPI, 2 threads) on the
# same Parquet files, all 22 queries, median of 3 runs after a warm-up. Prints
# per-query seconds, totals, the ratio, peak RSS of each, and the end-to-end time of
# `ember sql -e "SELECT 1"`. Not a test: run it by hand (`bench/tpch.sh`).
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/ember/target}"
DATA="${EMBER_TPCH_DIR:-$HOME/.cache/ember/tpch-sf1}"
QUERIES="${TPCH_QUERIES:-$(cd .. && pwd)/shared/tpch/queries}"
RUNS="${RUNS:-3}"
OUT=bench/out
mkdir -p "$OUT"

command -v tpchgen-cli >/dev/null || python3 -m pip install --quiet "tpchgen-cli==4.0.0"
python3 -c "import duckdb" 2>/dev/null || python3 -m pip install --quiet duckdb
if [ ! -f "$DATA/lineitem.parquet" ]; then mkdir -p "$DATA"; tpchgen-cli parquet -s 1 --output-dir "$DATA"; fi

cargo build --release -p ember-cli -p ember-core --example tpch_bench >/dev/null
BENCH="$CARGO_TARGET_DIR/release/examples/tpch_bench"
EMBER="$CARGO_TARGET_DIR/release/ember"

echo "== ember (local[2])"
/usr/bin/time -f "peak_rss_kib %M" -o "$OUT/ember.rss" "$BENCH" "$DATA" "$QUERIES" "$RUNS" "local[2]" | tee "$OUT/ember.txt"
echo "== duckdb (2 threads)"
python3 bench/duckdb_tpch.py "$DATA" "$QUERIES" "$RUNS" 2 | tee "$OUT/duckdb.txt"

echo "== SELECT 1 end to end (10 runs)"
python3 - "$EMBER" <<'PY' | tee "$OUT/select1.txt"
import subprocess, sys, time, statistics
ts = []
for _ in range(11):
    t0 = time.perf_counter()
    subprocess.run([sys.argv[1], "sql", "-e", "SELECT 1"], check=True, capture_output=True)
    ts.append(time.perf_counter() - t0)
print(f"select1_median_ms {statistics.median(ts[1:]) * 1000:.1f}")
PY

python3 - "$OUT" <<'PY'
import sys
out = sys.argv[1]
def load(p):
    d = {}
    for line in open(p):
        k, v = line.split()
        d[k] = float(v)
    return d
e, d = load(f"{out}/ember.txt"), load(f"{out}/duckdb.txt")
rss = int(open(f"{out}/ember.rss").read().split()[-1]) / 1024
print(f"\n{'query':<6}{'ember s':>10}{'duckdb s':>10}{'ratio':>8}")
for q in sorted(k for k in e if k.startswith("q")):
    print(f"{q:<6}{e[q]:>10.3f}{d[q]:>10.3f}{e[q] / d[q]:>8.2f}")
print(f"{'total':<6}{e['total']:>10.3f}{d['total']:>10.3f}{e['total'] / d['total']:>8.2f}")
print(f"peak RSS: ember {rss:.0f} MiB, duckdb {d['peak_rss_mib']:.0f} MiB")
PY
