#!/usr/bin/env bash
# tbseg writes checkpoints (examples/write_checkpoint.rs); TensorFlow reads
# them back with tf.train.load_checkpoint / list_variables /
# latest_checkpoint and a tf.compat.v1 Saver restore, bit for bit.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
. scripts/env.sh
py="${TBSEG_PY:-$TBSEG_PY_VENV/bin/python}"
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
cargo run --quiet --release --no-default-features --example write_checkpoint -- "$out/ckpt"
TF_CPP_MIN_LOG_LEVEL="${TF_CPP_MIN_LOG_LEVEL:-3}" "$py" scripts/conformance/check_checkpoint.py "$out/ckpt"
