#!/usr/bin/env bash
# Installs the S3-compatible test server (s3s-fs, an S3 server over a
# folder, from crates.io) into the cache, once, and the Python environment
# in which TensorBoard's own loader reads s3:// log directories
# (tensorboard + boto3, without TensorFlow: with TensorFlow importable,
# TensorBoard reads through tf.io.gfile, which has no s3:// file system in
# TensorFlow 2.21). Idempotent: a second run only checks the stamps.
#
# The server is a separate process started by scripts/s3-server.sh; it is
# never linked into tbseg.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
. "$here/env.sh"
# 0.14.1: the newest s3s-fs whose minimum Rust version this toolchain meets.
version=0.14.1
stamp="$TBSEG_S3_ROOT/.tbseg-ready"
if ! { [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$version" ]; }; then
    rm -rf "$TBSEG_S3_ROOT"
    mkdir -p "$TBSEG_S3_ROOT"
    build="$(mktemp -d)"
    trap 'rm -rf "$build"' EXIT
    # Its own target folder, not the project's: `cargo install` would
    # otherwise use CARGO_TARGET_DIR.
    env -u CARGO_TARGET_DIR cargo install --quiet --locked "s3s-fs@$version" \
        --features binary --root "$TBSEG_S3_ROOT" --target-dir "$build"
    "$TBSEG_S3_ROOT/bin/s3s-fs" --version >&2
    echo "$version" > "$stamp"
fi
tbseg_pinned_venv "$TBSEG_S3_PY_VENV" "tensorboard==2.21.0 boto3==1.44.8 setuptools<81" \
    'import boto3, tensorboard; print("tensorboard", tensorboard.__version__, "boto3", boto3.__version__)'
