#!/usr/bin/env bash
# The project's main job (README): the lab end to end on the embedded
# synthetic data. Installs libtorch into the cache on first use, builds the
# release binary, then runs `tbseg lab` (extra arguments are passed on).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
. scripts/env.sh
if [ ! -x "$CARGO_TARGET_DIR/release/tbseg" ]; then
    echo "lab.sh: first build of the tbseg command line (release, about 150 crates and libtorch's C++ glue; several minutes on 2 cores, seconds afterwards)" >&2
fi
scripts/cargo.sh build --release -p tbseg-lab --bin tbseg
exec "$CARGO_TARGET_DIR/release/tbseg" lab "$@"
