#!/usr/bin/env bash
# Runs the main job: the nycflights13 lakehouse pipeline on the bundled data.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/ember/target}"
# protoc: lancedb's build (the ingestion sinks are part of the ember binary) runs prost-build.
if ! command -v protoc >/dev/null 2>&1; then
  apt-get install -y -q protobuf-compiler >/dev/null || { apt-get update -q && apt-get install -y -q protobuf-compiler; }
fi
cargo build --release -p ember-cli
"$CARGO_TARGET_DIR/release/ember" submit examples/flights/pipeline.sql --master 'local[*]' \
  --conf spark.sql.session.timeZone=UTC --report "$@"
