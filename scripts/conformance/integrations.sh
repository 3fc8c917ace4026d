#!/usr/bin/env bash
# The integrations' files as TensorBoard and TensorFlow see them:
#   - examples/tch_logging.rs (feature tch): scalars, histograms and image
#     grids straight from tch tensors;
#   - examples/train_lab.rs (feature trainer) on a tiny synthetic lab data
#     set: loss, learning rate, Dice, masks, histograms, the graph, and a
#     checkpoint TensorFlow reads by the lab's variable names.
#   - examples/burn_logging.rs (feature burn): a Burn `Learner`'s train and
#     valid metrics through the Burn metric logger.
#   - examples/candle_logging.rs (feature candle): a small candle classifier's
#     loss, accuracy, weight and gradient histograms, images (CHW grids, an
#     HWC image) and Projector embedding, checked value by value
#     (check_candle.py) against the losses the example printed and the
#     pixels it drew.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
scripts/cargo.sh build --quiet --release -p tbseg --features trainer \
    --example tch_logging --example train_lab
scripts/cargo.sh build --quiet --release -p tbseg-lab --bin tbseg
( unset LIBTORCH; cargo build --quiet --release -p tbseg --features burn --example burn_logging )
( unset LIBTORCH; cargo build --quiet --release -p tbseg --features candle --example candle_logging )
. scripts/env.sh
bin="$CARGO_TARGET_DIR/release"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

"$bin/examples/tch_logging" "$tmp/runs/tch" > /dev/null
"$bin/tbseg" data synth --out "$tmp/data" --train 3 --val 2 > /dev/null
"$bin/examples/train_lab" --data_dir "$tmp/data" --logdir "$tmp/runs/lab" --num_epochs 2 > /dev/null
# 5 epochs of 6 train and 2 valid batches.
"$bin/examples/burn_logging" "$tmp/runs/burn" > /dev/null
# 200 steps on 24 images of 12x12: about a second.
"$bin/examples/candle_logging" "$tmp/runs/candle" > "$tmp/candle.txt"

tbseg_py scripts/conformance/check_tb_server.py "$tmp/runs" \
    --plugins scalars,images,histograms,graphs,projector \
    --scalar tch:loss:50 --image tch:inputs:1 --image tch:reconstructions:1 \
    --scalar lab:loss:6 --scalar lab:learning_rate:6 --scalar lab:dice:2 \
    --image lab:masks/image_label_prediction:1 --graph lab:Conv1/Conv2D --graph lab:upscore/Conv2DBackpropInput \
    --scalar burn/train:Loss:30 --scalar burn/train:epoch/Loss:5 --scalar "burn/train:Learning Rate:30" \
    --scalar burn/valid:Loss:10 --scalar burn/valid:epoch/Loss:5 \
    --scalar candle:loss:200 --scalar candle:accuracy:200 \
    --image candle:inputs:1 --image candle:overlay:1 --image candle:conv1_filters:1
tbseg_py scripts/conformance/check_candle.py "$tmp/runs/candle" "$tmp/candle.txt"

tbseg_py - "$tmp/runs" <<'PY'
import sys
import tensorflow as tf
from tensorboard.backend.event_processing import event_accumulator as ea

runs = sys.argv[1]
tch = ea.EventAccumulator(runs + "/tch", size_guidance={ea.TENSORS: 0})
tch.Reload()
tags = tch.Tags()["tensors"]
for name in ["encode.weight", "encode.bias", "decode.weight", "decode.bias"]:
    assert f"weights/{name}" in tags and f"grads/{name}" in tags, (name, tags)
hist = tf.make_ndarray(tch.Tensors("weights/encode.weight")[0].tensor_proto)
# TensorFlow's exponential buckets (left edge, right edge, count), as
# torch's add_histogram makes them; every weight counted once.
assert hist.ndim == 2 and hist.shape[1] == 3 and hist[:, 2].sum() == 8 * 3 * 3 * 3, hist
assert (hist[1:, 0] == hist[:-1, 1]).all(), hist

latest = tf.train.latest_checkpoint(runs + "/lab")
assert latest and latest.endswith("model.ckpt-6"), latest
shapes = tf.train.load_checkpoint(latest).get_variable_to_shape_map()
expected = {
    "Conv1/kernel": [5, 5, 1, 100], "Conv2/kernel": [5, 5, 100, 200],
    "Conv3/kernel": [3, 3, 200, 300], "conv4/kernel": [3, 3, 300, 300],
    "score_classes/kernel": [1, 1, 300, 2], "upscore/kernel": [31, 31, 2, 2],
    "global_step": [],
}
assert shapes == expected, shapes
print("integrations conformance: tch, train_lab, Burn and candle runs read by TensorBoard; train_lab's checkpoint by TensorFlow")
PY
