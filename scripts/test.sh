#!/usr/bin/env bash
# Installs what the tests need and runs every test of the workspace.
# Reuses CARGO_TARGET_DIR (default: ~/.cache/ember/target, outside the clone);
# builds from scratch where none exists.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/ember/target}"
export CARGO_TERM_COLOR=never
mkdir -p "$CARGO_TARGET_DIR"
# protoc: lancedb's build runs prost-build (DESIGN.md).
if ! command -v protoc >/dev/null 2>&1; then
  apt-get install -y -q protobuf-compiler >/dev/null || { apt-get update -q && apt-get install -y -q protobuf-compiler; }
fi
# PostgreSQL 16 + pgvector for the pgvector sink tests (PyPI pgserver ships both;
# the tests copy the binaries and run them as an unprivileged user on loopback).
if ! python3 -c "import pgserver" >/dev/null 2>&1; then
  python3 -m pip install --quiet --disable-pip-version-check "pgserver==0.1.4"
fi
if ! cargo nextest --version >/dev/null 2>&1; then
  cargo install cargo-nextest --locked
fi
# A real S3-compatible server for the object-storage tests (started on loopback by
# the tests themselves; see crates/ember-core/tests/common/s3.rs).
if ! command -v s3s-fs >/dev/null 2>&1 && [ ! -x "$HOME/.cargo/bin/s3s-fs" ]; then
  cargo install s3s-fs@0.14.1 --features binary --locked
fi
export PATH="$HOME/.cargo/bin:$PATH"
# TPC-H SF1 data for the tpch test (tpchgen-cli 4.0.0 from PyPI, as the answers were made).
if ! command -v tpchgen-cli >/dev/null 2>&1; then
  python3 -m pip install --quiet --disable-pip-version-check "tpchgen-cli==4.0.0"
fi
export EMBER_TPCH_DIR="${EMBER_TPCH_DIR:-$HOME/.cache/ember/tpch-sf1}"
if [ ! -f "$EMBER_TPCH_DIR/lineitem.parquet" ]; then
  mkdir -p "$EMBER_TPCH_DIR"
  tpchgen-cli parquet -s 1 --output-dir "$EMBER_TPCH_DIR"
fi
cargo build --workspace --all-targets
cargo nextest run --workspace --no-fail-fast --failure-output final
# Doc examples compile (they are marked no_run where they need data).
cargo test --workspace --doc
# Spark Connect conformance suite: the stock PySpark client (pyspark-client 4.2) in
# its own venv against `ember connect`, started on a free loopback port by the tests.
CONNECT_VENV="${EMBER_CONNECT_VENV:-$HOME/.cache/ember/venv-connect}"
if ! "$CONNECT_VENV/bin/python" -c "import pyspark, pytest, pandas, pyarrow, grpc, zstandard" >/dev/null 2>&1; then
  python3 -m venv "$CONNECT_VENV"
  "$CONNECT_VENV/bin/pip" install --quiet --disable-pip-version-check "pyspark-client==4.2.0" "pandas<3" pyarrow grpcio grpcio-status googleapis-common-protos zstandard pytest
fi
EMBER_BIN="$CARGO_TARGET_DIR/debug/ember" PYSPARK_PYTHON="$CONNECT_VENV/bin/python" \
  "$CONNECT_VENV/bin/python" -m pytest tests/connect -q -p no:cacheprovider
