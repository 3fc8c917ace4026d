#!/usr/bin/env bash
# The project's main job (README): the lab end to end on the embedded
# synthetic data. Installs libtorch into the cache on first use, builds the
# release binary, then runs `tbseg lab` (extra arguments are passed on).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
scripts/cargo.sh build --release -p tbseg-lab --bin tbseg
. scripts/env.sh
exec "$CARGO_TARGET_DIR/release/tbseg" lab "$@"
