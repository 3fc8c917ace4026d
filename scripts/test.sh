#!/usr/bin/env bash
# The project's test command (README): installs what it needs into the cache
# (libtorch, Python's torch, the pinned Python readers), then runs
#   1. the library's tests without libtorch (`-p tbseg`), then with the
#      `object-store` feature against a real S3 server (s3s-fs, cached by
#      scripts/setup-s3.sh), and the checks that the library is ready to
#      publish (scripts/publish-checks.sh: `cargo package`, the MSRV,
#      cargo-semver-checks once a release is tagged),
#   2. the Burn metric logger's test (a short Burn training run), the
#      candle integration's tests and its doc example, then
#      the whole workspace's tests with the trainer (libtorch) enabled,
#      then the library's tch integration and the training example on tiny
#      data (feature `trainer`),
#   3. the Python package's tests (python/tests: every SummaryWriter method,
#      the reader, s3:// logdirs on the S3 test server that setup-s3.sh
#      built above, and torch's writer side by side through TensorBoard's
#      loader), then the conformance checks, in which TensorBoard's and
#      TensorFlow's own Python readers load files that tbseg wrote,
#   4. the library's tests once more in debug mode, so debug_asserts and
#      integer overflow checks run,
#   5. every cargo-fuzz target for a short while (scripts/fuzz.sh),
# after the lint gate (rustfmt, clippy and rustdoc with warnings as errors).
# Any failure fails the script.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
. scripts/env.sh
scripts/setup-libtorch.sh
scripts/setup-torch-python.sh
scripts/setup-python.sh
scripts/setup-s3.sh

echo "== lint (cargo fmt --check, clippy and rustdoc with -D warnings)" >&2
cargo fmt --all -- --check
# The library alone, as a plain dependency and fully lean, needs no libtorch.
( unset LIBTORCH; cargo clippy --release -p tbseg --all-targets -- -D warnings )
( unset LIBTORCH; cargo clippy --release -p tbseg --no-default-features --all-targets -- -D warnings )
( unset LIBTORCH; cargo clippy --release -p tbseg-lab --no-default-features --all-targets -- -D warnings )
( tbseg_use_torch; cargo clippy --release --workspace --all-targets -- -D warnings )
( tbseg_use_torch; cargo clippy --release --workspace --features tbseg-lab/object-store --all-targets -- -D warnings )
( tbseg_use_torch; cargo clippy --release -p tbseg --features trainer --all-targets -- -D warnings )
( unset LIBTORCH; cargo clippy --release -p tbseg --features burn --all-targets -- -D warnings )
( unset LIBTORCH; cargo clippy --release -p tbseg --features candle --all-targets -- -D warnings )
( unset LIBTORCH; cargo clippy --release -p tbseg --features object-store --all-targets -- -D warnings )
( unset LIBTORCH; cargo clippy --release -p tbseg-serve --features object-store --all-targets -- -D warnings )
( unset LIBTORCH; RUSTDOCFLAGS="-D warnings" cargo doc --release --no-deps -p tbseg --quiet )
( unset LIBTORCH; RUSTDOCFLAGS="-D warnings" cargo doc --release --no-deps -p tbseg --no-default-features --quiet )
( unset LIBTORCH; RUSTDOCFLAGS="-D warnings" cargo doc --release --no-deps -p tbseg --features object-store --quiet )
( unset LIBTORCH; RUSTDOCFLAGS="-D warnings" cargo doc --release --no-deps -p tbseg --features candle --quiet )
( tbseg_use_torch; RUSTDOCFLAGS="-D warnings" cargo doc --release --no-deps --workspace --quiet )
( tbseg_use_torch; RUSTDOCFLAGS="-D warnings" cargo doc --release --no-deps -p tbseg --features trainer --quiet )

echo "== cargo test (the library alone, no libtorch)" >&2
( unset LIBTORCH; cargo test --release -p tbseg )

echo "== cargo test (object storage against a real S3 server, s3s-fs on 127.0.0.1)" >&2
( unset LIBTORCH; cargo test --release -p tbseg --features object-store --lib --test object_store )
( unset LIBTORCH; cargo test --release -p tbseg-serve --features object-store --test object_store )

scripts/publish-checks.sh

echo "== cargo test (the Burn metric logger: a short Burn training run)" >&2
# Burn is a long first build (about 9 minutes on this 2-core VM while
# other builds ran); the cache keeps it for later runs.
( unset LIBTORCH; cargo test --release -p tbseg --features burn --test burn_logger )

echo "== cargo test (the candle integration: tensors of every dtype, a VarMap)" >&2
# candle-core and candle-nn with default features (CPU only) add 120 crates,
# a first build of about 5 minutes of CPU (BENCHMARKS.md); the tests take
# under a second. The doc test filter compiles the module's example only.
( unset LIBTORCH; cargo test --release -p tbseg --features candle --test candle_integration )
( unset LIBTORCH; cargo test --release -p tbseg --features candle --doc integrations::candle )

echo "== cargo test (the whole workspace, with libtorch)" >&2
tbseg_use_torch
# The Python package's extension module cannot link a test binary (its
# libpython symbols come from the interpreter that loads it); its tests
# are the pytest suite below.
cargo test --release --workspace --exclude tbseg-python --features tbseg-lab/object-store

echo "== cargo test (the library's tch integration, the training example)" >&2
cargo test --release -p tbseg --features trainer --test tch_integration --test train_lab_example
cargo test --release -p tbseg --features trainer --doc

echo "== the Python package: pytest, and side by side with torch's writer through TensorBoard's loader" >&2
# Builds the wheel into the cache and installs it into a cached venv
# (torch 2.11 from setup-torch-python's environment, TensorBoard 2.21).
# The optional packages (pyarrow, polars, onnx, matplotlib) come from a
# second cached venv on top of it, so no test is skipped for want of them.
( unset LIBTORCH VIRTUAL_ENV; scripts/setup-python-extras.sh )
"$TBSEG_EXTRAS_VENV/bin/python" -m pytest -q python/tests

echo "== conformance with the real TensorBoard / TensorFlow readers" >&2
scripts/conformance.sh

echo "== cargo test in debug mode (debug_asserts, overflow checks)" >&2
# The format library's tests once more in debug mode. Measured on the
# shared 2-core VM under heavy load: 18 min wall, nearly all of it the
# debug build of the library and its dev-dependencies; the tests themselves
# take seconds. The SIGKILL checkpoint campaign is skipped here: its kill
# timing assumes release-speed saves (a debug child rarely finishes a 4 MiB
# save before it is killed) and it runs in the release suite above. The
# workspace (the trainer on libtorch) stays release-only: its debug build
# and training-loop tests were not measured to fit CI's 90 minutes.
( unset LIBTORCH; cargo test -p tbseg -- --skip checkpoint_survives_sigkill_at_random_moments )

echo "== fuzz every target briefly (scripts/fuzz.sh)" >&2
scripts/fuzz.sh 20
echo "== all tests passed" >&2
