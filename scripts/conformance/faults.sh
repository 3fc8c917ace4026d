#!/usr/bin/env bash
# The kill -9 campaign (lab/tests/faults.rs) hands its final folder to the
# real readers: TensorBoard's (plugin) EventAccumulator, which applies the
# SessionLog START purges of each resumed run, must show every tag's steps
# once and in order; TensorFlow must restore the latest checkpoint.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
. scripts/env.sh
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
TBSEG_FAULTS_OUT="$tmp/campaign" scripts/cargo.sh test --quiet --release -p tbseg-lab \
    --test faults kill_9 >"$tmp/test.log" 2>&1 || { cat "$tmp/test.log" >&2; exit 1; }

tbseg_py - "$tmp/campaign" <<'PY'
import sys
import tensorflow as tf
# The accumulator TensorBoard's own server reads runs with (every summary
# as a tensor; a SessionLog START purges all tags).
from tensorboard.backend.event_processing import plugin_event_accumulator as ea

folder = sys.argv[1]
acc = ea.EventAccumulator(folder, size_guidance={ea.TENSORS: 0})
acc.Reload()
steps = {}
for tag in acc.Tags()["tensors"]:
    if tag.startswith("_hparams_") or tag == "__run_graph__":
        continue  # one per (re)start of the run, by design
    steps[tag] = [event.step for event in acc.Tensors(tag)]
summaries = list(range(0, 160, 2))
for tag in ("1cnn_cross_entropy_mean", "1learning_rate"):
    assert steps.get(tag) == summaries, (tag, steps.get(tag))
for tag, seen in steps.items():
    assert seen == sorted(set(seen)), f"{tag}: duplicate or unordered steps {seen}"
latest = tf.train.latest_checkpoint(folder)
assert latest, "no checkpoint"
reader = tf.train.load_checkpoint(latest)
assert reader.get_tensor("global_step") == 160, reader.get_tensor("global_step")
assert reader.get_variable_to_shape_map()["Conv2/kernel"] == [5, 5, 100, 200]
for name in reader.get_variable_to_shape_map():
    reader.get_tensor(name)
print(f"faults conformance: after the kill -9 campaign TensorBoard shows {len(steps)} tags "
      f"with each step once, and TensorFlow restores {latest.rsplit('/', 1)[-1]}")
PY
