#!/usr/bin/env bash
# tbseg writes checkpoints (examples/write_checkpoint.rs); TensorFlow reads
# them back with tf.train.load_checkpoint / list_variables /
# latest_checkpoint and a tf.compat.v1 Saver restore, bit for bit.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
. scripts/env.sh
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
cargo run --quiet --release -p tbseg-lab --no-default-features --example write_checkpoint -- "$out/ckpt"
tbseg_py scripts/conformance/check_checkpoint.py "$out/ckpt"
