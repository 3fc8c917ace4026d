#!/usr/bin/env bash
# The GPU checks, in one run on the device machine (from the repo root, with
# dist/tbseg made by scripts/prepare_gpu.sh):
#   1. the trainer end to end on CUDA: one cnn-dice epoch and its evaluation;
#   2. scripts/bench_trainer.sh --device cuda: tbseg's cnn step and epoch
#      against PyTorch eager on the same GPU (no TensorFlow there).
# Everything printed also goes to $OUT/gpu_bench.txt (or gpu-results/).
#   scripts/gpu_bench.sh [--device cuda|cpu] [--rounds 3] [--steps 300]
# `--device cpu` is a dry run of the plumbing on a machine without a GPU.
# libtorch comes from the machine's own Python torch 2.11.0 (LD_LIBRARY_PATH);
# tbseg keeps libtorch_cuda linked, so CUDA is found there.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
device=cuda
rounds=3
steps=300
while [ $# -gt 0 ]; do
    case "$1" in
        --device) device="$2"; shift 2 ;;
        --rounds) rounds="$2"; shift 2 ;;
        --steps) steps="$2"; shift 2 ;;
        *) echo "gpu_bench.sh: unknown argument $1" >&2; exit 2 ;;
    esac
done
out="${OUT:-gpu-results}"
mkdir -p "$out"
py="${TBSEG_TORCH_PYTHON:-python3}"
torch_lib="$("$py" -c 'import os, torch; print(os.path.join(os.path.dirname(torch.__file__), "lib"))')"
export LD_LIBRARY_PATH="$torch_lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
export TBSEG_BIN="${TBSEG_BIN:-$PWD/dist/tbseg}" TBSEG_TORCH_PYTHON="$py"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
{
    date -u
    nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>/dev/null || true
    "$py" -c 'import torch; print("python torch", torch.__version__, "cuda", torch.cuda.is_available())'
    "$TBSEG_BIN" data synth --out "$work/data"
    start=$SECONDS
    "$TBSEG_BIN" train --model cnn-dice --device "$device" --data_dir "$work/data" \
        --checkpoint_dir "$work/logs/cnn-dice" --num_epochs 1
    "$TBSEG_BIN" eval --model cnn-dice --device "$device" --data_dir "$work/data" \
        --checkpoint_dir "$work/logs/cnn-dice"
    echo "train + eval, 1 epoch: $((SECONDS - start)) s"
    scripts/bench_trainer.sh --device "$device" --rounds "$rounds" --warmup 20 --steps "$steps" \
        --data_dir "$work/data"
} 2>&1 | tee "$out/gpu_bench.txt"
