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
build() { cargo build --release -p tbseg-lab --bin tbseg; }
if [ "$(tbseg_libtorch_kind)" = cpu ]; then
    # The CPU libtorch (about 10 s to fetch) arrives while cargo compiles
    # the 20-odd seconds of crates that come before torch-sys's build
    # script. Should the fetch take longer, that script fails for want of
    # libtorch's headers, and the build runs again once libtorch is there.
    scripts/setup-libtorch.sh &
    libtorch_setup=$!
    tbseg_use_torch
    if build; then
        wait "$libtorch_setup"
    else
        if ! wait "$libtorch_setup"; then
            say "installing libtorch failed (see above); rerun scripts/lab.sh to retry"
            exit 1
        fi
        say "torch-sys's build script ran before libtorch was fetched (the error above);" \
            "building again, now that libtorch is installed"
        build
    fi
else
    scripts/setup-libtorch.sh
    tbseg_use_torch
    build
fi
say "running the lab: data, then the three tasks with their evaluations (4-8 minutes on 2 cores, depending on the CPU)"
exec "$CARGO_TARGET_DIR/release/tbseg" lab "$@"
