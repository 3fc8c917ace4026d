#!/usr/bin/env bash
# Trains and evaluates the cnn-dice task on a tiny synthetic set with the
# real trainer (libtorch), then checks its output with the real tools:
# TensorBoard's server shows the lab's tags, the graph, images, histograms
# and hparams; TensorFlow reads the checkpoint by the lab's variable names.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
scripts/cargo.sh build --quiet --release -p tbseg-lab --bin tbseg
. scripts/env.sh
tbseg="$CARGO_TARGET_DIR/release/tbseg"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
"$tbseg" data synth --out "$tmp/data" --train 3 --val 2
"$tbseg" train --model cnn-dice --data_dir "$tmp/data" --checkpoint_dir "$tmp/logs/cnn-dice" \
    --num_epochs 1 --threads 1 > "$tmp/train.log"
"$tbseg" eval --model cnn-dice --data_dir "$tmp/data" --checkpoint_dir "$tmp/logs/cnn-dice" \
    --threads 1 > "$tmp/eval.log"
grep -q "OUTPUT: Done training for 1 epochs, 2 steps." "$tmp/train.log"
grep -Eq "^OUTPUT: [0-9-]+ [0-9:.]+: Dice metric = [0-9.]+$" "$tmp/eval.log"
grep -q "OUTPUT: 2 images evaluated from file $tmp/data/val_images.tfrecords" "$tmp/eval.log"

tbseg_py scripts/conformance/check_tb_server.py "$tmp/logs" \
    --plugins scalars,images,histograms,graphs,hparams \
    --scalar cnn-dice:2cnn_cross_entropy_mean:1 --scalar cnn-dice:2learning_rate:1 \
    --scalar "cnn-dice/eval:2Dice metric:1" \
    --image cnn-dice:images/prediction_overlay --image cnn-dice/eval:eval/overlay:2 \
    --graph cnn-dice:Conv1/Conv2D --graph cnn-dice:upscore/conv2d_transpose \
    --hparam learning_rate --metric 2cnn_cross_entropy_mean

tbseg_py - "$tmp/logs/cnn-dice" <<'PY'
import sys
import tensorflow as tf
ckpt_dir = sys.argv[1]
latest = tf.train.latest_checkpoint(ckpt_dir)
assert latest and latest.endswith("model.ckpt-2"), latest
reader = tf.train.load_checkpoint(latest)
shapes = reader.get_variable_to_shape_map()
expected = {
    "Conv1/kernel": [5, 5, 1, 100], "Conv2/kernel": [5, 5, 100, 200],
    "Conv3/kernel": [3, 3, 200, 300], "conv4/kernel": [3, 3, 300, 300],
    "score_classes/kernel": [1, 1, 300, 2], "upscore/kernel": [31, 31, 2, 2],
    "global_step": [],
}
assert shapes == expected, shapes
assert reader.get_tensor("global_step") == 2, reader.get_tensor("global_step")
print("trainer conformance: TensorFlow reads", latest.rsplit("/", 1)[-1], "with the lab's names and shapes")
PY
