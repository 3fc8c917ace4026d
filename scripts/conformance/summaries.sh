#!/usr/bin/env bash
# Writes a run with every summary kind (examples/summaries.rs) and reads it
# back with TensorBoard's own Python loaders and HParams plugin.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
. scripts/env.sh
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
# The run lives in its own directory, as under `tensorboard --logdir runs/`.
logdir="$tmp/run1"
cargo run --quiet --release -p tbseg --example summaries -- "$logdir"
tbseg_py scripts/conformance/check_summaries.py "$logdir"
tbseg_py scripts/conformance/check_kinds.py "$logdir"
# The same run through TensorBoard's server, as a browser sees it: every
# dashboard must be active (the parent directory is the logdir, so the run
# is "run1").
tbseg_py scripts/conformance/check_tb_server.py "$tmp" \
    --plugins scalars,images,histograms,text,graphs,hparams,pr_curves,audio,custom_scalars,mesh,projector \
    --scalar run1:loss:120 --scalar run1:dice:120 \
    --image run1:mri/overlay --image run1:video/square --graph run1:Conv1/conv \
    --hparam learning_rate --hparam model --hparam augment --metric dice
# The calls PyTorch users know (examples/torch_style.rs): f64 scalars,
# add_scalars sub-runs and one-call hparams, through TensorBoard's server.
cargo run --quiet --release -p tbseg --example torch_style -- "$tmp/sweep" > /dev/null
tbseg_py scripts/conformance/check_torch_style.py "$tmp/sweep"
