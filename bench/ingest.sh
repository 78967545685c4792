#!/usr/bin/env bash
# Ingestion benchmark (a script, not a test): generated iNaturalist photo rows + a
# 512-d embeddings table → Lance with `ember ingest`, local[2]; parse-only figures;
# the peers from ../shared/bench (DuckDB, Spark 4.3; both write Parquet) on the same
# data in the same run.
#
#   ROWS=1000000 DIM=512 bench/ingest.sh        # SPARK=0 skips Spark
#
# Prints rows/s end to end, per-stage times from ember's log, parse MB/s per core,
# peak RSS, and the ratios.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/ember/target}"
export PATH="$HOME/.cargo/bin:$PATH"
ROWS="${ROWS:-1000000}"
DIM="${DIM:-512}"
SPARK="${SPARK:-1}"
SHARED="${SHARED:-$ROOT/../shared}"
cargo build --release -q -p ember-cli -p ember-ingest --bins --examples
BIN="$CARGO_TARGET_DIR/release"
DATA="${EMBER_INGEST_DATA:-$HOME/.cache/ember/inat-$ROWS-$DIM}"
if [ ! -f "$DATA/embeddings.parquet" ]; then
  echo "== generating $ROWS rows, ${DIM}-d embeddings in $DATA"
  "$BIN/examples/gen_inaturalist" "$DATA" "$ROWS" "$DIM"
fi
OUT="$(mktemp -d "${TMPDIR:-/tmp}/ember-ingest-bench.XXXXXX")"
trap 'rm -rf "$OUT"' EXIT
echo "== data: $(du -h "$DATA/photos.csv.gz" | cut -f1) photos.csv.gz, $(du -h "$DATA/embeddings.parquet" | cut -f1) embeddings.parquet"

echo "== parse only (one core: gzip, then tab splitting + checks + Arrow building)"
"$BIN/examples/parse_bench" "$DATA/photos.csv.gz" | tee "$OUT/parse.txt"

# The job, with the embeddings read from $1 (Parquet as generated, or the same vectors
# as a Lance dataset), into a fresh Lance table.
run_ember() {
  local emb="$1" tag="$2"
  rm -rf "$OUT/lancedb" "$OUT/_ember_ingest"
  cat > "$OUT/job.toml" <<JOB
name = "bench"
master = "local[2]"
task_rows = 100000
[source]
path = "$DATA/photos.csv.gz"
key = "photo_id"
[embedding]
type = "lookup"
path = "$emb"
dim = $DIM
[sink]
type = "lance"
uri = "$OUT/lancedb"
table = "photos"
index = "${INDEX:-none}"
JOB
  echo "== ember ingest → Lance (local[2], embeddings from $tag, index=${INDEX:-none})"
  sync
  /usr/bin/time -f "peak_rss_kb=%M wall_s=%e" -o "$OUT/time-$tag.txt" \
    env EMBER_LOG="warn,ember_ingest=info" "$BIN/ember" ingest "$OUT/job.toml" > "$OUT/report-$tag.txt" 2> "$OUT/log-$tag.txt"
  cat "$OUT/report-$tag.txt"
  grep -E "done:|merged|summed" "$OUT/log-$tag.txt" | sed -E 's/^[^ ]+ +INFO [^ ]+ //'
  cat "$OUT/time-$tag.txt"
}
run_ember "$DATA/embeddings.parquet" parquet
EMBER_RPS=$(grep -oE "[0-9]+ rows/s" "$OUT/report-parquet.txt" | grep -oE "^[0-9]+")
EMBER_RSS=$(grep -oE "peak_rss_kb=[0-9]+" "$OUT/time-parquet.txt" | cut -d= -f2)
if [ ! -d "$DATA/emb/embeddings.lance" ]; then
  echo "== copying the embeddings into a Lance dataset"
  "$BIN/examples/embeddings_to_lance" "$DATA/embeddings.parquet" "$DATA/emb" embeddings
fi
run_ember "$DATA/emb/embeddings.lance" lance
EMBER_LANCE_RPS=$(grep -oE "[0-9]+ rows/s" "$OUT/report-lance.txt" | grep -oE "^[0-9]+")

echo "== DuckDB ($(python3 -c 'import duckdb; print(duckdb.__version__)'), 2 threads, writes Parquet)"
if ! python3 "$SHARED/bench/duckdb_ingest.py" "$DATA" "$OUT/duck.parquet" > "$OUT/duck.txt" 2> "$OUT/duck.err"; then
  # DuckDB 2.0's CSV sniffer gives up when a row with extra fields (a stray tab)
  # comes early in the file, even with the columns given; the same query without
  # sniffing (auto_detect=false) is otherwise unchanged.
  echo "(the peer script failed in DuckDB's CSV sniffer: $(grep -m1 -o 'Error when sniffing[^.]*' "$OUT/duck.err"); rerun with auto_detect=false)"
  sed 's/ignore_errors=true)/ignore_errors=true, auto_detect=false)/' "$SHARED/bench/duckdb_ingest.py" > "$OUT/duckdb_ingest_nosniff.py"
  python3 "$OUT/duckdb_ingest_nosniff.py" "$DATA" "$OUT/duck.parquet" > "$OUT/duck.txt"
fi
cat "$OUT/duck.txt"
DUCK_RPS=$(grep -oE "rows_per_s=[0-9]+" "$OUT/duck.txt" | cut -d= -f2)

SPARK_RPS=""
if [ "$SPARK" = 1 ]; then
  VENV="$HOME/.cache/ember/venv-spark"
  if [ ! -x "$VENV/bin/python" ] || ! "$VENV/bin/python" -c "import pyspark" 2>/dev/null; then
    python3 -m venv "$VENV" && "$VENV/bin/pip" install --quiet "pyspark==4.3.0"
  fi
  echo "== Spark $("$VENV/bin/python" -c 'import pyspark; print(pyspark.__version__)') local[2] (writes Parquet)"
  "$VENV/bin/python" "$SHARED/bench/spark_ingest.py" "$DATA" "$OUT/spark" 2>/dev/null | tee "$OUT/spark.txt"
  SPARK_RPS=$(grep -oE "rows_per_s=[0-9]+" "$OUT/spark.txt" | cut -d= -f2)
fi

echo "== summary ($ROWS rows, ${DIM}-d)"
python3 - "$EMBER_RPS" "$DUCK_RPS" "${SPARK_RPS:-0}" "$EMBER_RSS" "$OUT/parse.txt" "${EMBER_LANCE_RPS:-0}" <<'PY'
import sys
ember, duck, spark, rss = (float(x or 0) for x in sys.argv[1:5])
parse = dict(kv.split("=") for kv in open(sys.argv[5]).read().split())
lance = float(sys.argv[6] or 0)
print(f"ember end to end, Parquet embeddings: {ember:,.0f} rows/s (target >= 200,000), peak RSS {rss/1024:.0f} MiB")
print(f"ember end to end, Lance embeddings:   {lance:,.0f} rows/s")
print(f"parse only, one core: {float(parse['parse_mb_s']):,.0f} MB/s, {float(parse['parse_rows_s']):,.0f} rows/s (target >= 1,000 MB/s); gzip alone {float(parse['decompress_mb_s']):,.0f} MB/s")
print(f"DuckDB: {duck:,.0f} rows/s -> ember is {ember/duck:.1f}x" if duck else "DuckDB: n/a")
print(f"Spark:  {spark:,.0f} rows/s -> ember is {ember/spark:.1f}x" if spark else "Spark: skipped")
PY
