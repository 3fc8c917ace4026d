#!/usr/bin/env bash
# The project's test command (README): installs what it needs into the cache
# (libtorch, the pinned Python readers), then runs
#   1. the format library's tests without libtorch (--no-default-features),
#   2. the whole test suite with the trainer (libtorch) enabled,
#   3. the conformance checks, in which TensorBoard's and TensorFlow's own
#      Python readers load files that tbseg wrote,
# after the lint gate (rustfmt, clippy and rustdoc with warnings as errors).
# Any failure fails the script.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
. scripts/env.sh
scripts/setup-libtorch.sh
scripts/setup-python.sh

echo "== lint (cargo fmt --check, clippy and rustdoc with -D warnings)" >&2
cargo fmt --all -- --check
( unset LIBTORCH_USE_PYTORCH; cargo clippy --release --no-default-features --all-targets -- -D warnings )
( tbseg_use_torch; cargo clippy --release --all-targets -- -D warnings )
( unset LIBTORCH_USE_PYTORCH; RUSTDOCFLAGS="-D warnings" cargo doc --release --no-deps --no-default-features --quiet )
( tbseg_use_torch; RUSTDOCFLAGS="-D warnings" cargo doc --release --no-deps --quiet )

echo "== cargo test (format library alone, no libtorch)" >&2
( unset LIBTORCH_USE_PYTORCH; cargo test --release --no-default-features )

echo "== cargo test (everything, with libtorch)" >&2
tbseg_use_torch
cargo test --release

echo "== conformance with the real TensorBoard / TensorFlow readers" >&2
scripts/conformance.sh
echo "== all tests passed" >&2
