#!/usr/bin/env bash
# Runs the main job: the nycflights13 lakehouse pipeline on the bundled data.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/ember/target}"
cargo build --release -p ember-cli
"$CARGO_TARGET_DIR/release/ember" submit examples/flights/pipeline.sql --master 'local[*]' \
  --conf spark.sql.session.timeZone=UTC --report "$@"
