#!/usr/bin/env bash
# The project's main job (README): the lab end to end on the embedded
# synthetic data. Installs libtorch into the cache on first use, builds the
# release binary, then runs `tbseg lab` (extra arguments are passed on).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
. scripts/env.sh

say() { echo "lab.sh: $*" >&2; }

if [ ! -x "$CARGO_TARGET_DIR/release/tbseg" ]; then
    say "first build of the tbseg command line: libtorch (a 530 MB download, under a minute)," \
        "then about 200 crates and libtorch's C++ glue (about 3 minutes on 2 cores; seconds afterwards)"
fi
scripts/cargo.sh build --release -p tbseg-lab --bin tbseg
say "running the lab: data, then the three tasks with their evaluations (4-8 minutes on 2 cores, depending on the CPU)"
exec "$CARGO_TARGET_DIR/release/tbseg" lab "$@"
