#!/usr/bin/env bash
# The ingestion crash test at full size (the test suite runs it with 100k rows):
# 1M generated rows into Lance, `ember ingest` killed with SIGKILL at random moments
# (EMBER_CRASH_KILLS, default 8), each followed by --resume; then every valid id must
# be in the sink exactly once with its vector and the dead-letter table must hold
# exactly the malformed rows. Release build.
#
#   bench/ingest_crash.sh            # EMBER_CRASH_ROWS=1000000 EMBER_CRASH_KILLS=8
#   EMBER_CRASH_SEED=... bench/ingest_crash.sh   # replay the kill moments of a run
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/ember/target}"
export PATH="$HOME/.cargo/bin:$PATH"
export EMBER_CRASH_ROWS="${EMBER_CRASH_ROWS:-1000000}"
export EMBER_CRASH_KILLS="${EMBER_CRASH_KILLS:-8}"
cargo nextest run --release -p ember-cli -E 'binary(ingest_crash)' --no-capture
