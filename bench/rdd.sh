#!/usr/bin/env bash
# RDD benchmark of #23: ember vs Apache Spark 4.3 classic, both --master local[2].
# 1. word count (textFile -> flatMap -> map -> reduceByKey -> sortBy -> take) over
#    MB megabytes of generated text (default 1024, in 64 MB files under
#    $HOME/.cache/ember/bench-rdd, made once);
# 2. a pair-RDD join of ROWS records (default 10,000,000) with ROWS/5 records.
# Each engine runs bench/rdd.py as a whole program (`ember submit` with the
# pyspark-client 4.2 venv; `spark-submit` of PyPI pyspark 4.3.0 with Java 17); the
# program times each action after its session is up, RUNS times (default 3), and
# the script prints the median per workload, the ratio ember / Spark, and checks
# that both engines computed the same result.
# Does not build: EMBER names the binary (default: the release build in
# $HOME/.cache/ember/target). Not a test: run it by hand. Output in bench/out/rdd.txt.
set -euo pipefail
cd "$(dirname "$0")/.."
EMBER="${EMBER:-$HOME/.cache/ember/target/release/ember}"
MB="${MB:-1024}"
ROWS="${ROWS:-10000000}"
RUNS="${RUNS:-3}"
DATA="${DATA:-$HOME/.cache/ember/bench-rdd}"
SPARK_MEM="${SPARK_MEM:-4g}"
OUT=bench/out
mkdir -p "$OUT" "$DATA"
CLIENT="$HOME/.cache/ember/venv-connect"
SPARK="$HOME/.cache/ember/venv-spark43"
[ -x "$CLIENT/bin/python" ] || { python3 -m venv "$CLIENT"; "$CLIENT/bin/pip" install --quiet "pyspark-client==4.2.0" "pandas<3" pyarrow grpcio grpcio-status googleapis-common-protos zstandard; }
[ -x "$SPARK/bin/spark-submit" ] || { python3 -m venv "$SPARK"; "$SPARK/bin/pip" install --quiet "pyspark==4.3.0" "pandas<3" pyarrow; }
command -v java >/dev/null || [ -n "${JAVA_HOME:-}" ] || { echo "Spark needs Java 17: no java on PATH and no JAVA_HOME" >&2; exit 1; }
[ -x "$EMBER" ] || { echo "no ember binary at $EMBER (cargo build --release -p ember-cli, or set EMBER)" >&2; exit 1; }
python3 bench/rdd.py gen "$DATA" "$MB"

run() { # engine workload -> JSON lines on stdout
  case "$1" in
    ember) env PYSPARK_PYTHON="$CLIENT/bin/python" PATH="$CLIENT/bin:$PATH" "$EMBER" submit --master "local[2]" \
             bench/rdd.py run "$DATA" "$ROWS" "$2" "$RUNS" 2> "$OUT/rdd-ember-$2.log" ;;
    spark) env PYSPARK_PYTHON="$SPARK/bin/python" PYSPARK_DRIVER_PYTHON="$SPARK/bin/python" \
             "$SPARK/bin/spark-submit" --master "local[2]" --driver-memory "$SPARK_MEM" \
             bench/rdd.py run "$DATA" "$ROWS" "$2" "$RUNS" 2> "$OUT/rdd-spark-$2.log" ;;
  esac
}

{
echo "== ember: $EMBER; text: $MB MB in $DATA/words; join: $ROWS x $((ROWS / 5)) records; runs: $RUNS"
for w in wordcount join; do
  run ember "$w" > "$OUT/rdd-ember-$w.jsonl" || { echo "ember $w failed; see $OUT/rdd-ember-$w.log" >&2; exit 1; }
  run spark "$w" > "$OUT/rdd-spark-$w.jsonl" || { echo "spark $w failed; see $OUT/rdd-spark-$w.log" >&2; exit 1; }
done
python3 - "$OUT" <<'PY'
import json, statistics, sys
out = sys.argv[1]
print(f"{'workload':<12}{'ember s':>10}{'spark s':>10}{'ember/spark':>13}   same result")
ok = True
for w in ["wordcount", "join"]:
    rs = {e: [json.loads(l) for l in open(f"{out}/rdd-{e}-{w}.jsonl") if l.startswith("{")]
          for e in ["ember", "spark"]}
    med = {e: statistics.median(r["seconds"] for r in rs[e]) for e in rs}
    same = rs["ember"][0]["result"] == rs["spark"][0]["result"]
    ok &= same
    print(f"{w:<12}{med['ember']:>10.2f}{med['spark']:>10.2f}{med['ember'] / med['spark']:>13.3f}   {same}")
    for e in rs:
        print(f"  {e}: runs {[r['seconds'] for r in rs[e]]}; result {json.dumps(rs[e][0]['result'])[:300]}")
sys.exit(0 if ok else 1)
PY
} | tee "$OUT/rdd.txt"
