#!/usr/bin/env bash
# TPC-H SF1 through the PySpark client (pyspark-client 4.2.0) over Spark Connect:
# `ember connect` (release, local[2]) vs Sail (PyPI pysail 0.7.2, `sail spark server`,
# its own venv), both serving at once; same queries, same Parquet files; each timed
# round runs a query on both servers in turn; median of RUNS (default 5) rounds after
# a warm-up. Prints per-query seconds, totals, the ratio, and the `SELECT 1` round trip.
# Not a test: run it by hand (`bench/connect_tpch.sh`).
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/ember/target}"
DATA="${EMBER_TPCH_DIR:-$HOME/.cache/ember/tpch-sf1}"
QUERIES="${TPCH_QUERIES:-$(cd .. && pwd)/shared/tpch/queries}"
RUNS="${RUNS:-5}"
OUT=bench/out
mkdir -p "$OUT"
CLIENT="$HOME/.cache/ember/venv-connect"
SAIL="$HOME/.cache/ember/venv-sail"
[ -x "$CLIENT/bin/python" ] || { python3 -m venv "$CLIENT"; "$CLIENT/bin/pip" install --quiet "pyspark-client==4.2.0" "pandas<3" pyarrow grpcio grpcio-status googleapis-common-protos zstandard; }
[ -x "$SAIL/bin/sail" ] || { python3 -m venv "$SAIL"; "$SAIL/bin/pip" install --quiet "pysail==0.7.2" "pyspark-client==4.2.0" "pandas<3" pyarrow grpcio grpcio-status googleapis-common-protos zstandard; }
command -v tpchgen-cli >/dev/null || python3 -m pip install --quiet "tpchgen-cli==4.0.0"
if [ ! -f "$DATA/lineitem.parquet" ]; then mkdir -p "$DATA"; tpchgen-cli parquet -s 1 --output-dir "$DATA"; fi
cargo build --release -p ember-cli >/dev/null
EMBER="$CARGO_TARGET_DIR/release/ember"
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_port() { for _ in $(seq 200); do (echo > /dev/tcp/127.0.0.1/$1) 2>/dev/null && return 0; sleep 0.1; done; return 1; }

P1=$(port)
"$EMBER" connect --port "$P1" --master "local[2]" --conf spark.sql.shuffle.partitions=2 > "$OUT/ember-connect.log" 2>&1 &
EPID=$!
trap 'kill $EPID 2>/dev/null || true; kill ${SPID:-} 2>/dev/null || true' EXIT
P2=$(port)
"$SAIL/bin/sail" spark server --port "$P2" > "$OUT/sail.log" 2>&1 &
SPID=$!
wait_port "$P1"
wait_port "$P2"
echo "== ember connect (local[2]) and sail 0.7.2 (defaults: all 2 cores), alternating"
"$CLIENT/bin/python" bench/connect_tpch.py "$DATA" "$QUERIES" "$RUNS" \
  "ember=sc://127.0.0.1:$P1" "sail=sc://127.0.0.1:$P2" | tee "$OUT/connect-tpch.txt"
