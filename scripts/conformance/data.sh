#!/usr/bin/env bash
# `tbseg data synth` writes the lab's train/val files; TensorFlow reads them
# the way the lab did (TFRecordDataset + parse_single_example, decode_raw
# as int64 * 1/1024) and everything must match what tbseg itself reads.
# Exits non-zero on any mismatch.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
. scripts/env.sh
n_train=6
n_val=3
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
# The data commands need no libtorch.
cargo build --quiet --release -p tbseg-lab --no-default-features --bin tbseg --example dump_lab
"$CARGO_TARGET_DIR/release/tbseg" data synth --out "$tmp/data" --train "$n_train" --val "$n_val"
train="$tmp/data/train_images.tfrecords"
val="$tmp/data/val_images.tfrecords"
"$CARGO_TARGET_DIR/release/examples/dump_lab" "$train" "$val" > "$tmp/tbseg.json"
tbseg_py scripts/conformance/check_data.py \
    "$train" "$val" "$n_train" "$n_val" "$tmp/tbseg.json"
