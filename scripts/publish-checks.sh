#!/usr/bin/env bash
# Is the library ready to publish? Called by scripts/test.sh; quick once its
# caches are warm, and safe to run again:
#   1. `cargo package`: the crate as it would be uploaded (Cargo.toml's
#      `include`) builds on its own, against Cargo.lock;
#   2. the minimum supported Rust version (`rust-version` in Cargo.toml)
#      still builds the library, with and without its own features. The
#      framework integrations are left out: `tch` needs libtorch, and the
#      pinned framework versions need a newer Rust than the library
#      (candle-core 0.11.1 does not compile with 1.89, Burn 0.21's locked
#      dependencies ask for 1.92);
#   3. cargo-semver-checks against the last `v*` tag, once there is one.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
. scripts/env.sh
unset LIBTORCH
# The library's own features, without the framework integrations.
msrv_features="png,safetensors,object-store"

echo "== cargo package (the published crate builds on its own)" >&2
# --allow-dirty: the test command also runs on uncommitted work; a release
# is packaged from a clean tagged commit without it. Cargo's notes that the
# tests, examples and benchmarks are left out of the package (on purpose,
# see `include`) are filtered out.
cargo package -p tbseg --locked --allow-dirty 2>&1 |
    { grep -v '^warning: ignoring \(test\|example\|benchmark\) ' || true; } >&2

msrv="$(sed -n 's/^rust-version = "\(.*\)"$/\1/p' Cargo.toml | head -n 1)"
toolchain="$msrv"
[[ "$toolchain" =~ ^[0-9]+\.[0-9]+$ ]] && toolchain="$toolchain.0"
echo "== cargo +$toolchain check (the MSRV in Cargo.toml, features $msrv_features)" >&2
# Installed once (a minimal profile, about 40 s), then reused offline.
if ! rustup run "$toolchain" rustc --version >/dev/null 2>&1; then
    rustup toolchain install "$toolchain" --profile minimal
fi
# A target folder of its own: another compiler's artefacts would evict the
# main cache's.
CARGO_TARGET_DIR="$TBSEG_CACHE/target-msrv" \
    cargo "+$toolchain" check -p tbseg --locked --lib --features "$msrv_features"
CARGO_TARGET_DIR="$TBSEG_CACHE/target-msrv" \
    cargo "+$toolchain" check -p tbseg --locked --lib --no-default-features

echo "== cargo semver-checks (the public API against the last release)" >&2
# Skipped until the first `v*` tag exists (there is no released API to
# compare with yet), and where cargo-semver-checks is not installed: it is
# a long build (`cargo install cargo-semver-checks --locked`) that the test
# command does not do for you.
baseline="$(git tag --list 'v*' --sort=-version:refname | head -n 1)"
if [ -z "$baseline" ]; then
    echo "cargo semver-checks skipped: no v* tag yet" >&2
elif ! cargo semver-checks --version >/dev/null 2>&1; then
    echo "cargo semver-checks skipped: not installed (cargo install cargo-semver-checks --locked)" >&2
else
    cargo semver-checks -p tbseg --baseline-rev "$baseline" \
        --only-explicit-features --features "$msrv_features"
fi
