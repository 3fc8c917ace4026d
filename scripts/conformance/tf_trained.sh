#!/usr/bin/env bash
# A cnn checkpoint trained by TensorFlow (the lab's graph and names, a
# tf.compat.v1 Saver), evaluated by tbseg: `tbseg predict`'s masks must
# equal TensorFlow's pixel for pixel and `tbseg eval`'s Dice must equal
# TensorFlow's to 4 decimal places (scripts/conformance/tf_trained.py).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
scripts/cargo.sh build --quiet --release -p tbseg-lab --bin tbseg
. scripts/env.sh
tbseg="$CARGO_TARGET_DIR/release/tbseg"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
"$tbseg" data synth --out "$tmp/data" --train 3 --val 2 > /dev/null
tbseg_py scripts/conformance/tf_trained.py train "$tmp/data" "$tmp/ckpt" "$tmp/tf.npz"
"$tbseg" eval --model cnn-dice --data_dir "$tmp/data" --checkpoint_dir "$tmp/ckpt" \
    --eval_dir "$tmp/eval" --threads 1 > "$tmp/eval.log"
"$tbseg" predict --model cnn-dice --checkpoint_dir "$tmp/ckpt" \
    --input "$tmp/data/val_images.tfrecords" --out "$tmp/pred" --threads 1 > "$tmp/predict.log"
tbseg_py scripts/conformance/tf_trained.py check "$tmp/tf.npz" "$tmp/pred" "$tmp/eval"
