#!/usr/bin/env bash
# Python-side costs, ember vs Sail vs Apache Spark 4.3:
# 1. start-to-exit wall time of a trivial PySpark program (SparkSession, print
#    spark.range(10).count(), stop) under `ember submit --master local[2]` (driver and
#    workers: the pyspark-client 4.2 venv) vs `spark-submit --master local[2]` (PyPI
#    pyspark 4.3.0, its own venv, Java 17); one warm-up each, then median of
#    SUBMIT_RUNS (default 5) alternating rounds;
# 2. M rows/s over spark.range(ROWS) (default 10,000,000) of a pickled @udf, an
#    Arrow-optimized @udf(useArrow=True), a scalar pandas_udf and mapInPandas, each
#    computing id + 1 summed on the server (result checked), on `ember connect`
#    (local[2]) and Sail (PyPI pysail 0.7.2, `sail spark server`, defaults: all 2
#    cores) through the pyspark-client 4.2 client, and on Spark 4.3 *classic* (a
#    local[2] SparkSession in the Spark venv's Python, not Spark Connect), all up at
#    once; one warm-up per workload and engine, then median of RUNS (default 3)
#    rounds, each running the workload on every engine in turn.
# Does not build: EMBER names the binary (default: the release build in
# $HOME/.cache/ember/target; `cargo build --release -p ember-cli` first).
# Not a test: run it by hand (`bench/python_workers.sh`). Output in bench/out/.
set -euo pipefail
cd "$(dirname "$0")/.."
EMBER="${EMBER:-$HOME/.cache/ember/target/release/ember}"
ROWS="${ROWS:-10000000}"
RUNS="${RUNS:-3}"
SUBMIT_RUNS="${SUBMIT_RUNS:-5}"
OUT=bench/out
mkdir -p "$OUT"
CLIENT="$HOME/.cache/ember/venv-connect"
SAIL="$HOME/.cache/ember/venv-sail"
SPARK="$HOME/.cache/ember/venv-spark43"
[ -x "$CLIENT/bin/python" ] || { python3 -m venv "$CLIENT"; "$CLIENT/bin/pip" install --quiet "pyspark-client==4.2.0" "pandas<3" pyarrow grpcio grpcio-status googleapis-common-protos zstandard; }
[ -x "$SAIL/bin/sail" ] || { python3 -m venv "$SAIL"; "$SAIL/bin/pip" install --quiet "pysail==0.7.2" "pyspark-client==4.2.0" "pandas<3" pyarrow grpcio grpcio-status googleapis-common-protos zstandard; }
[ -x "$SPARK/bin/spark-submit" ] || { python3 -m venv "$SPARK"; "$SPARK/bin/pip" install --quiet "pyspark==4.3.0" "pandas<3" pyarrow; }
command -v java >/dev/null || [ -n "${JAVA_HOME:-}" ] || { echo "Spark needs Java 17: no java on PATH and no JAVA_HOME" >&2; exit 1; }
[ -x "$EMBER" ] || { echo "no ember binary at $EMBER (cargo build --release -p ember-cli, or set EMBER)" >&2; exit 1; }
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_port() { for _ in $(seq 300); do (echo > /dev/tcp/127.0.0.1/$1) 2>/dev/null && return 0; sleep 0.1; done; return 1; }

{
echo "== ember: $EMBER"
echo "== 1. trivial PySpark program, start to exit (s): ember submit vs spark-submit, both --master local[2]"
# env(1) sets each side's Python without touching this shell's environment.
"$CLIENT/bin/python" bench/python_workers.py submit "$SUBMIT_RUNS" "$OUT" \
  "ember submit=env PYSPARK_PYTHON=$CLIENT/bin/python $EMBER submit --master local[2]" \
  "spark-submit=env PYSPARK_PYTHON=$SPARK/bin/python PYSPARK_DRIVER_PYTHON=$SPARK/bin/python $SPARK/bin/spark-submit --master local[2]"
} | tee "$OUT/python-workers.txt"

P1=$(port)
PYSPARK_PYTHON="$CLIENT/bin/python" "$EMBER" connect --port "$P1" --master "local[2]" \
  --conf spark.sql.shuffle.partitions=2 > "$OUT/ember-connect.log" 2>&1 &
EPID=$!
trap 'kill $EPID 2>/dev/null || true; kill ${SPID:-} 2>/dev/null || true' EXIT
P2=$(port)
"$SAIL/bin/sail" spark server --port "$P2" > "$OUT/sail.log" 2>&1 &
SPID=$!
wait_port "$P1" || { echo "ember connect did not listen on $P1; see $OUT/ember-connect.log" >&2; exit 1; }
wait_port "$P2" || { echo "sail did not listen on $P2; see $OUT/sail.log" >&2; exit 1; }
{
echo
echo "== 2. Python UDF throughput: ember connect (local[2]), sail 0.7.2 (Connect), spark 4.3 classic (local[2], not Connect)"
"$CLIENT/bin/python" bench/python_workers.py udfs "$ROWS" "$RUNS" "$OUT" \
  "ember=sc://127.0.0.1:$P1" "sail=sc://127.0.0.1:$P2" "spark=classic:$SPARK/bin/python"
} | tee -a "$OUT/python-workers.txt"
