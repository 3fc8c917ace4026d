#!/usr/bin/env bash
# Measures the quality anchors of the README on the synthetic data set:
#   1. cnn-dice, the lab's defaults, 30 epochs        (lab on real data: Dice 0.568)
#   2. cnn-dice, the lab's best recipe, 100 epochs    (lab on real data: Dice 0.862)
# Both runs go side by side with one libtorch thread each (usually faster
# than one after the other on two cores). Takes about 14 minutes on 2 cores
# (2026-11-27: 269 s and 799 s side by side).
# Usage: scripts/quality.sh [WORKDIR]   (default: quality/ in the repo, git-ignored)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
work="${1:-quality}"
scripts/cargo.sh build --release -p tbseg-lab --bin tbseg
. scripts/env.sh
tbseg="$CARGO_TARGET_DIR/release/tbseg"
mkdir -p "$work"
"$tbseg" data synth --out "$work/data" 2>/dev/null || true   # keeps an existing set

run() {
    local name="$1"; shift
    local dir="$work/$name"
    rm -rf "$dir"
    local start=$SECONDS
    "$tbseg" train --model cnn-dice --data_dir "$work/data" --checkpoint_dir "$dir" --threads 1 "$@" \
        > "$work/$name.train.log" 2>&1
    "$tbseg" eval --model cnn-dice --data_dir "$work/data" --checkpoint_dir "$dir" --threads 1 \
        > "$work/$name.eval.log" 2>&1
    echo "$name: $(grep -h 'Done training' "$work/$name.train.log") $(grep -h 'Dice metric' "$work/$name.eval.log") ($((SECONDS - start)) s)"
}

run defaults-30ep --num_epochs 30 &
run best-100ep --learning_rate 0.03 --decay_rate 0.75 --decay_steps 10000 --num_epochs 100 &
wait
