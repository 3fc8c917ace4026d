#!/usr/bin/env bash
# Prepares the device run of a session that is lent a GPU machine (which has
# Python's torch 2.11.0 but no Rust and no network): builds tbseg here and
# copies it to dist/tbseg (git-ignored), the path that call carries. Then use
# the device tool's `run` with carry ["dist"] and the command
#   scripts/gpu_bench.sh
# (one call, about 3 minutes of device time; see that script).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
. scripts/env.sh
# Built against the CUDA libtorch (whatever this machine has), in a target
# folder of its own so that the CPU build of the tests is not redone.
export TBSEG_LIBTORCH_KIND=cuda CARGO_TARGET_DIR="$TBSEG_CACHE/target-cuda"
scripts/cargo.sh build --release -p tbseg-lab --bin tbseg
mkdir -p dist
# Without the line tables (87 MB with them): the call carries at most 64 MiB.
strip --strip-debug -o dist/tbseg "$CARGO_TARGET_DIR/release/tbseg"
echo "dist/tbseg ready ($(du -h dist/tbseg | cut -f1)); carry [\"dist\"], command: scripts/gpu_bench.sh"
