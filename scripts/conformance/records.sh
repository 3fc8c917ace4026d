#!/usr/bin/env bash
# tbseg writes a TFRecord file of tf.train.Examples; TensorFlow reads it
# back (TFRecordDataset, Example.FromString, parse_single_example) and every
# value must match. Exits non-zero on any mismatch.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
. scripts/env.sh
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
cargo run --quiet --release -p tbseg --example write_examples -- "$tmp/examples.tfrecord"
tbseg_py scripts/conformance/check_records.py "$tmp/examples.tfrecord"
