#!/usr/bin/env bash
# TPC-H SF1 from a local S3-compatible server (s3s-fs on loopback) vs the same
# Parquet files on local disk: all 22 queries through ember (release, local[2]),
# median of RUNS after a warm-up. Prints seconds per query for both, the ratio, and
# the bytes and GET requests each query fetched from the bucket against the size of
# the tables it reads (Parquet pruning keeps selective queries such as Q6 well under
# the file sizes). Not a test: run it by hand (`bench/s3_tpch.sh`).
# Mind the server: s3s-fs hashes the whole object on every request (~0.6 s per GET or
# HEAD of the 221 MiB lineitem file here, ~120 MB/s for a full GET), so the S3 times
# measure s3s-fs as much as ember. moto was tried too and is slower still (6.8 s for
# Q6 against 1.2 s).
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/ember/target}"
export PATH="$HOME/.cargo/bin:$PATH"
DATA="${EMBER_TPCH_DIR:-$HOME/.cache/ember/tpch-sf1}"
QUERIES="${TPCH_QUERIES:-$(cd .. && pwd)/shared/tpch/queries}"
RUNS="${RUNS:-3}"
OUT=bench/out
mkdir -p "$OUT"

command -v tpchgen-cli >/dev/null || python3 -m pip install --quiet "tpchgen-cli==4.0.0"
command -v s3s-fs >/dev/null || cargo install s3s-fs@0.14.1 --features binary --locked
if [ ! -f "$DATA/lineitem.parquet" ]; then mkdir -p "$DATA"; tpchgen-cli parquet -s 1 --output-dir "$DATA"; fi
cargo build --release -p ember-core --example tpch_bench >/dev/null
BENCH="$CARGO_TARGET_DIR/release/examples/tpch_bench"

ROOT=$(mktemp -d)
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
mkdir -p "$ROOT/tpch"
s3s-fs --host 127.0.0.1 --port "$PORT" "$ROOT" >/dev/null 2>&1 &
S3PID=$!
trap 'kill $S3PID 2>/dev/null; rm -rf "$ROOT"' EXIT
for _ in $(seq 100); do (echo > /dev/tcp/127.0.0.1/$PORT) 2>/dev/null && break; sleep 0.1; done
# Upload through the S3 API (the Rust example's writer is not involved).
python3 - "$PORT" "$DATA" <<'PY'
import sys, os, urllib.request
port, data = sys.argv[1], sys.argv[2]
for f in sorted(os.listdir(data)):
    if f.endswith(".parquet"):
        body = open(os.path.join(data, f), "rb").read()
        req = urllib.request.Request(f"http://127.0.0.1:{port}/tpch/{f}", data=body, method="PUT")
        urllib.request.urlopen(req).read()
PY

echo "== ember, local disk"
"$BENCH" "$DATA" "$QUERIES" "$RUNS" "local[2]" | tee "$OUT/s3_local.txt"
echo "== ember, s3://tpch on s3s-fs (loopback)"
EMBER_CONF="spark.hadoop.fs.s3a.endpoint=http://127.0.0.1:$PORT,spark.hadoop.fs.s3a.path.style.access=true,spark.hadoop.fs.s3a.aws.credentials.provider=org.apache.hadoop.fs.s3a.AnonymousAWSCredentialsProvider" \
  "$BENCH" "s3://tpch" "$QUERIES" "$RUNS" "local[2]" | tee "$OUT/s3_remote.txt"

python3 - "$OUT" "$DATA" "$QUERIES" <<'PY'
import os, re, sys
out, data, queries = sys.argv[1:]
def load(p):
    d = {}
    for line in open(p):
        k, v = line.split()
        d[k] = float(v)
    return d
l, r = load(f"{out}/s3_local.txt"), load(f"{out}/s3_remote.txt")
sizes = {f[:-8]: os.path.getsize(os.path.join(data, f)) for f in os.listdir(data) if f.endswith(".parquet")}
print(f"\n{'query':<6}{'disk s':>9}{'s3 s':>9}{'ratio':>7}{'fetched MiB':>13}{'tables MiB':>12}{'share':>7}{'GETs':>7}")
for q in sorted(k for k in l if re.fullmatch(r"q\d\d", k)):
    sql = open(f"{queries}/{q}.sql").read().lower()
    read = sum(s for t, s in sizes.items() if re.search(rf"\b{t}\b", sql))
    b = r.get(f"{q}_bytes", 0)
    print(f"{q:<6}{l[q]:>9.3f}{r[q]:>9.3f}{r[q] / l[q]:>7.2f}{b / 2**20:>13.1f}{read / 2**20:>12.1f}{b / read:>7.2f}{int(r.get(q + '_requests', 0)):>7}")
print(f"{'total':<6}{l['total']:>9.3f}{r['total']:>9.3f}{r['total'] / l['total']:>7.2f}")
PY
