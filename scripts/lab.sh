#!/usr/bin/env bash
# The project's main job (README): the lab end to end on the embedded
# synthetic data. Installs libtorch into the cache on first use, builds the
# release binary, then runs `tbseg lab` (extra arguments are passed on).
#
# On a cold cache the libtorch install (mostly a download) and the compile of
# every crate that does not need libtorch run at the same time; the crates
# that do (torch-sys's C++ glue, tch, the trainer) follow.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
. scripts/env.sh

say() { echo "lab.sh: $*" >&2; }

if [ ! -x "$CARGO_TARGET_DIR/release/tbseg" ]; then
    say "first build of the tbseg command line (release, about 150 crates and libtorch's C++ glue;" \
        "about 5 minutes on 2 cores, seconds afterwards)"
fi
if [ ! -f "$TBSEG_TORCH_VENV/.tbseg-ready" ]; then
    say "installing libtorch (1-2 minutes) and, meanwhile, compiling the crates that do not need it"
    scripts/setup-libtorch.sh &
    torch_install=$!
    # Everything but tch and the trainer: same features as the full build, so
    # nothing is compiled twice. A failure here is not fatal; the full build
    # below reports it.
    cargo build --release -p tbseg-lab --no-default-features --lib || true
    if ! wait "$torch_install"; then
        say "installing libtorch failed (see above); rerun scripts/lab.sh to retry"
        exit 1
    fi
    say "libtorch ready; compiling its C++ glue (2-4 minutes), tch and the trainer"
fi
scripts/cargo.sh build --release -p tbseg-lab --bin tbseg
say "running the lab: data, then the three tasks with their evaluations (4-8 minutes on 2 cores, depending on the CPU)"
exec "$CARGO_TARGET_DIR/release/tbseg" lab "$@"
