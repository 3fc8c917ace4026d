#!/usr/bin/env bash
# Beyond the lab, checked with the real tools: a two-trial `tbseg sweep` of
# the U-Net with validation during training on a tiny synthetic set. The
# TensorBoard server must show each trial's hparams with the sweep's
# metrics in the HParams dashboard, the validation Dice in the trial's
# `eval` run, and the U-Net's graph; TensorFlow must read the best
# checkpoint by the U-Net's TensorFlow names. A rerun must train nothing.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
scripts/cargo.sh build --quiet --release -p tbseg-lab --bin tbseg
. scripts/env.sh
tbseg="$CARGO_TARGET_DIR/release/tbseg"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
"$tbseg" data synth --out "$tmp/data" --train 3 --val 2 > /dev/null
sweep=("$tbseg" sweep --logdir "$tmp/sweep" --workers 2 --threads 2 --
    --data_dir "$tmp/data" --model unet --optimizer adam --loss dice-cross-entropy --augment
    --learning_rate 0.001,0.003 --num_epochs 1 --eval_every 1)
"${sweep[@]}" > "$tmp/sweep.log"
grep -q "^   1 " "$tmp/sweep.log" && grep -q "^   2 " "$tmp/sweep.log"
"${sweep[@]}" > "$tmp/again.log"
grep -q "^tbseg sweep: 0 trial(s) to train" "$tmp/again.log"

trial="000-learning_rate=0.001"
tbseg_py scripts/conformance/check_tb_server.py "$tmp/sweep" \
    --plugins scalars,graphs,hparams \
    --scalar "$trial/eval:2Dice metric:2" --scalar "$trial:sweep/final:1" \
    --graph "$trial:up1/concat" --graph "$trial:score/Conv2D" \
    --hparam learning_rate --hparam loss --hparam optimizer --hparam augment --hparam augment_symmetries \
    --metric sweep/best --metric sweep/final

tbseg_py - "$tmp/sweep/$trial/best" <<'PY'
import sys
import tensorflow as tf
latest = tf.train.latest_checkpoint(sys.argv[1])
assert latest, "no best checkpoint"
shapes = tf.train.load_checkpoint(latest).get_variable_to_shape_map()
for name, shape in {
    "down1/conv1/kernel": [3, 3, 1, 8], "down1/conv1/bias": [8],
    "up4/upconv/kernel": [2, 2, 64, 128], "score/kernel": [1, 1, 8, 2],
}.items():
    assert shapes.get(name) == shape, (name, shapes.get(name))
print("beyond conformance: TensorFlow reads the U-Net's best checkpoint", latest.rsplit("/", 1)[-1], f"({len(shapes)} tensors)")
PY
