#!/usr/bin/env bash
# The project's test command (README): installs what it needs into the cache
# (libtorch, the pinned Python readers), then runs
#   1. the library's tests without libtorch (`-p tbseg`),
#   2. the whole workspace's tests with the trainer (libtorch) enabled,
#      then the library's tch integration and the training example on tiny
#      data (feature `trainer`),
#   3. the conformance checks, in which TensorBoard's and TensorFlow's own
#      Python readers load files that tbseg wrote,
#   4. the library's and the lab's data tools' tests once more in debug
#      mode, so debug_asserts and integer overflow checks run,
#   5. every cargo-fuzz target for a short while (scripts/fuzz.sh),
# after the lint gate (rustfmt, clippy and rustdoc with warnings as errors).
# Any failure fails the script.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
. scripts/env.sh
scripts/setup-libtorch.sh
scripts/setup-python.sh

echo "== lint (cargo fmt --check, clippy and rustdoc with -D warnings)" >&2
cargo fmt --all -- --check
# The library alone, as a plain dependency and fully lean, needs no libtorch.
( unset LIBTORCH_USE_PYTORCH; cargo clippy --release -p tbseg --all-targets -- -D warnings )
( unset LIBTORCH_USE_PYTORCH; cargo clippy --release -p tbseg --no-default-features --all-targets -- -D warnings )
( unset LIBTORCH_USE_PYTORCH; cargo clippy --release -p tbseg-lab --no-default-features --all-targets -- -D warnings )
( tbseg_use_torch; cargo clippy --release --workspace --all-targets -- -D warnings )
( tbseg_use_torch; cargo clippy --release -p tbseg --features trainer --all-targets -- -D warnings )
( unset LIBTORCH_USE_PYTORCH; RUSTDOCFLAGS="-D warnings" cargo doc --release --no-deps -p tbseg --quiet )
( tbseg_use_torch; RUSTDOCFLAGS="-D warnings" cargo doc --release --no-deps --workspace --quiet )
( tbseg_use_torch; RUSTDOCFLAGS="-D warnings" cargo doc --release --no-deps -p tbseg --features trainer --quiet )

echo "== cargo test (the library alone, no libtorch)" >&2
( unset LIBTORCH_USE_PYTORCH; cargo test --release -p tbseg )

echo "== cargo test (the whole workspace, with libtorch)" >&2
tbseg_use_torch
cargo test --release --workspace

echo "== cargo test (the library's tch integration, the training example)" >&2
cargo test --release -p tbseg --features trainer --test tch_integration --test train_lab_example
cargo test --release -p tbseg --features trainer --doc

echo "== conformance with the real TensorBoard / TensorFlow readers" >&2
scripts/conformance.sh

echo "== cargo test in debug mode (debug_asserts, overflow checks)" >&2
# The format library and the lab without libtorch (data tools, Sunnybrook
# parsers, inspect, export): DEBUG_TIMING. The trainer's tests stay release
# only: in debug its Rust-side loops over 256x256 images (data decoding,
# metrics, overlays) run an order of magnitude slower, and the same code is
# covered here through the lab's data tests and the library's.
( unset LIBTORCH_USE_PYTORCH; cargo test -p tbseg && cargo test -p tbseg-lab --no-default-features )

echo "== fuzz every target briefly (scripts/fuzz.sh)" >&2
scripts/fuzz.sh 20
echo "== all tests passed" >&2
